using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Bench;

/// <summary>
/// `bench meters`: managed heap per meter with warm state, the figure that decides how many meters a
/// node holds. N <see cref="MeterState"/>s each live through <c>--minutes</c> of readings every 10 s,
/// fed one reading per batch and decided, applied and published exactly as the meter actor does, so
/// each holds a full de-duplication horizon, its open and amendable windows and a learned baseline.
/// Each reading brings its own region string, as one read from Kafka does. The heap is measured after
/// full collections, before and after, with every state still referenced. The actor around the state
/// (cell, mailbox, persistence) is not counted: this is the state's own cost.
/// </summary>
internal static class MeterBench
{
    private static readonly string[] Regions = ["Mumbai-Central", "Mumbai-North", "Pune-West", "Nashik"];

    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 10_000, "meters held in memory");
    internal static readonly Option<int> Minutes = BenchOptions.Int("--minutes", 40, "minutes of readings each meter has seen");

    internal static Task<int> RunAsync(int meters, int minutes)
    {
        var policy = new MeterPolicy();
        var start = Window.Floor(DateTimeOffset.UtcNow.AddHours(-2), WindowSize.FifteenMinutes);
        Console.WriteLine($"meters bench: {meters:N0} meters, {minutes} min of readings every 10 s each, {BenchMachine.Gc} GC");

        var before = Heap();
        var clock = Stopwatch.StartNew();
        var states = new MeterState[meters];
        long readings = 0;
        for (var m = 0; m < meters; m++)
        {
            var meterId = $"MTR-{m + 1:D8}";
            var state = states[m] = new MeterState(meterId);
            // Each meter at its own offset in the 10 s cycle, as real meters are.
            var phase = TimeSpan.FromMilliseconds(m * 7 % 10_000);
            for (var tick = 0; tick < minutes * 6; tick++)
            {
                var at = start + phase + TimeSpan.FromSeconds(10 * tick);
                var power = 0.5 + (m * 31 + tick * 17) % 400 / 100.0;
                TelemetryReading reading = new()
                {
                    MeterId = meterId, Timestamp = at, Voltage = 230, Current = power * 1000 / 230, PowerKw = power,
                    EnergyKwh = power * 10 / 3600, PowerFactor = 0.95, Frequency = 50, Region = new string(Regions[m % Regions.Length]),
                };
                foreach (var e in state.Decide([reading], idle: false, policy))
                {
                    if (e is ReadingsAccepted r) state.Apply(r, policy);
                    if (e is WindowsEmitted w) state.Apply(w, policy);
                }
                readings++;
            }
        }
        var elapsed = clock.Elapsed;
        var after = Heap();
        GC.KeepAlive(states);

        var accepted = states.Sum(s => s.AcceptedTotal);
        if (accepted != readings)
        {
            Console.Error.WriteLine($"meters bench: {accepted:N0} of {readings:N0} readings accepted; the warm-up is broken");
            return Task.FromResult(1);
        }
        Console.WriteLine($"{readings:N0} readings decided and applied in {elapsed.TotalSeconds:0.0} s ({readings / elapsed.TotalSeconds:N0} readings/s on one thread)");
        Console.WriteLine($"open windows per meter: {states.Average(s => s.Windows.Count()):0.0}");
        Console.WriteLine($"heap: {before / 1048576.0:0.0} MiB before, {after / 1048576.0:0.0} MiB after");
        Console.WriteLine($"heap bytes per meter: {(after - before) / meters}");
        return Task.FromResult(0);
    }

    /// <summary>Live managed bytes after full, compacting collections.</summary>
    internal static long Heap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
