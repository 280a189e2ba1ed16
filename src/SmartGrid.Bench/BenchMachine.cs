using System.Runtime;

namespace SmartGrid.Bench;

/// <summary>
/// What a bench's figures depend on besides the code, printed in its first lines: two runs compare only when these
/// match (server GC keeps a larger heap and RSS for the same meters; the cores bound the throughput).
/// </summary>
internal static class BenchMachine
{
    public static string Gc => GCSettings.IsServerGC ? "server" : "workstation";

    public static string CoresAndGc => $"{Environment.ProcessorCount} cores, {Gc} GC";
}
