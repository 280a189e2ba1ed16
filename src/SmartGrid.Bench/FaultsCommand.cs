using System.CommandLine.Parsing;
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
    internal static readonly Option<DateTimeOffset?> From = new("--from")
    {
        Description = "start of the span, ISO-8601, UTC unless it says otherwise [default: an hour ago]",
        CustomParser = result => DateTimeOffset.TryParse(result.Tokens[0].Value, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var from) ? from : Invalid(result),
    };
    internal static readonly Option<int> Minutes = BenchOptions.Int("--minutes", 60, "length of the span");
    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 5_000, "the simulated fleet's size");
    internal static readonly Option<int> Seed = BenchOptions.Int("--seed", 1, "the simulator's seed", minimum: int.MinValue);

    private static DateTimeOffset? Invalid(ArgumentResult result)
    {
        result.AddError($"--from needs an ISO-8601 time, not '{result.Tokens[0].Value}'");
        return null;
    }

    internal static Task<int> RunAsync(ParseResult parse)
    {
        var options = new SimulatorOptions { Meters = parse.GetValue(Meters), Seed = parse.GetValue(Seed) };
        var from = parse.GetValue(From) ?? DateTimeOffset.UtcNow.AddHours(-1);
        var to = from.AddMinutes(parse.GetValue(Minutes));
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
