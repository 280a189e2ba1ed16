using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Simulator;

namespace SmartGrid.Bench;

/// <summary>
/// `bench generator`: what the simulator itself costs, measured here rather than asserted in specs
/// (a spec on a shared machine would time the machine). Part one: milliseconds per generated tick
/// of the default 5,000-meter fleet, best and percentiles. Part two: a rate-capped run into a sink
/// that only counts, reporting the achieved rate against the cap and the wall time.
/// </summary>
internal static class GeneratorBench
{
    internal static readonly Option<int> Ticks = BenchOptions.Int("--ticks", 200, "ticks of the 5,000-meter fleet to time");
    internal static readonly Option<int> Rate = BenchOptions.Int("--rate", 2_000, "readings/s cap of the rate-capped run");
    internal static readonly Option<int> Seconds = BenchOptions.Int("--seconds", 5, "length of the rate-capped run at its cap");

    internal static async Task<int> RunAsync(int ticks, int rate, int seconds)
    {
        var generator = new ReadingGenerator(MeterFleet.Create());
        var start = new DateTimeOffset(2024, 1, 15, 0, 0, 0, TimeSpan.Zero);
        // Warm-up: the JIT and the fleet's first allocations are not the steady cost.
        for (var i = 0; i < 20; i++) generator.ReadingsAt(start.AddSeconds(10 * i));

        var times = new double[ticks];
        long readings = 0;
        for (var i = 0; i < ticks; i++)
        {
            var clock = Stopwatch.StartNew();
            readings += generator.ReadingsAt(start.AddHours(1).AddSeconds(10 * i)).Count;
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"generator bench: {ticks} ticks of the default fleet, {readings / ticks:N0} readings a tick");
        Console.WriteLine($"ms per tick: best {times[0]:0.000}, p50 {Percentiles.Of(times, 50):0.000}, p99 {Percentiles.Of(times, 99):0.000}, max {times[^1]:0.000}");
        Console.WriteLine($"readings generated/s on one thread: {readings / times.Sum() * 1000:N0}");

        var run = new SimulatorOptions
        {
            Meters = 100, Interval = TimeSpan.FromSeconds(1), StartAt = AlignedMinute(DateTimeOffset.UtcNow.AddHours(-1)),
            Duration = TimeSpan.FromSeconds(rate * seconds / 100), Speed = 10_000, Rate = rate, BatchSize = 50,
        };
        var wall = Stopwatch.StartNew();
        var totals = await SimulatorRun.RunAsync(run, new CountingSink(), CancellationToken.None);
        wall.Stop();
        Console.WriteLine($"rate-capped run: {totals.Sent:N0} readings at a cap of {rate:N0}/s in {wall.Elapsed.TotalSeconds:0.00} s " +
                          $"(ideal {totals.Sent / (double)rate:0.00} s): {totals.Sent / wall.Elapsed.TotalSeconds:N0} readings/s achieved");
        return totals.Sent == totals.Accepted ? 0 : 1;
    }

    private static DateTimeOffset AlignedMinute(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

    private sealed class CountingSink : ITelemetrySink
    {
        public Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct) =>
            Task.FromResult(new SinkResult(batch.Count, 0));
    }
}
