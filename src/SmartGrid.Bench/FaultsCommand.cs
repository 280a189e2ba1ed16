using System.Globalization;
using SmartGrid.Domain.Simulation;
using SmartGrid.Simulator;

namespace SmartGrid.Bench;

/// <summary>
/// Prints the simulator's ground truth for a span: every fault its readings show (spike, drop, outage, sag, swell,
/// drift), one tab-separated line each, for the fleet a run with the same seed, meter count and interval generates;
/// and whether each outage starts with a last gasp. What the power-quality and reliability routes should find.
/// </summary>
internal static class FaultsCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var a = new BenchArgs(args);
        var options = new SimulatorOptions { Meters = a.Int("meters", 5_000), Seed = a.Int("seed", 1) };
        var from = a.Text("from") is { } text
            ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
            : DateTimeOffset.UtcNow.AddHours(-1);
        var to = from.AddMinutes(a.Int("minutes", 60));
        var generator = SimulatorRun.CreateGenerator(options);
        var faults = FaultSchedule.Between(generator, from, to).Concat(FaultSchedule.VoltageBetween(generator, from, to))
            .OrderBy(f => f.Start).ThenBy(f => f.MeterId, StringComparer.Ordinal);
        Console.WriteLine("meter_id\tregion\tkind\tstart\tend\tlast_gasp");
        foreach (var f in faults)
        {
            var gasp = f.Kind == MeterCondition.Outage ? (generator.IsLastGasp(generator.Fleet.Find(f.MeterId)!, f.Start) ? "yes" : "no") : "";
            Console.WriteLine($"{f.ToLine()}\t{gasp}");
        }
        return Task.FromResult(0);
    }
}
