using System.Diagnostics.CodeAnalysis;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Gateway.Http;

/// <summary>Shapes of identifiers accepted in routes and bodies (checked before any lookup).</summary>
internal static class Identifiers
{
    // Ingestion's validator with the same (default) options: a meter the admin API accepts is one ingestion accepts.
    private static readonly ReadingValidator Ingestion = new();

    public static bool IsMeterId([NotNullWhen(true)] string? value) => Ingestion.IsMeterId(value);

    public static string MeterIdRule => Ingestion.MeterIdRule;
}
