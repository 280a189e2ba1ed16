using System.Text.RegularExpressions;

namespace SmartGrid.Gateway.Http;

/// <summary>Shapes of identifiers accepted in routes and bodies (checked before any lookup).</summary>
internal static partial class Identifiers
{
    /// <summary>Meter ids as the simulator and ingestion use them (MTR-00000001) and other short tokens; no spaces or quotes.</summary>
    public static bool IsMeterId(string? value) => value is not null && MeterIdPattern().IsMatch(value);

    public const string MeterIdRule = "must be 1-64 letters, digits, '-', '_', '.' or ':' (e.g. MTR-00000001)";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex MeterIdPattern();
}
