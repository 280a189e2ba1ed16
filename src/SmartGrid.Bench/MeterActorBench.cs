using Akka.Actor;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Bench;

/// <summary>
/// `bench meter-actors`: managed heap per live meter actor, everything around the state included (actor cell,
/// mailbox, persistence internals, shard maps, timers). A processor node in this process, on a fresh database and an
/// embedded broker nobody produces to; N meters each get one batch of readings and its checkpoint straight through
/// the shard region, as the telemetry consumer sends them, so each holds warm state and has written to the journal.
/// The heap is measured after full collections before the first meter and after the last, with every meter active
/// (passivation is pushed past the run). <c>--hold</c> keeps the node up afterwards, for a heap dump of the process
/// (dotnet-gcdump collect -p PID) that breaks the bytes down by type.
/// </summary>
internal static class MeterActorBench
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 20_000, "meters started and kept active");
    internal static readonly Option<int> Readings = BenchOptions.Int("--readings", 12, "readings per meter, in one batch (10 s apart)");
    internal static readonly Option<int> Hold = BenchOptions.Int("--hold", 0, "seconds to keep the node up after measuring, for a heap dump", minimum: 0);

    internal static async Task<int> RunAsync(int meters, int readings, int hold)
    {
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var database = await BenchDatabase.CreateAsync();
        Console.WriteLine($"meter actors bench: {meters:N0} meters × {readings} readings, {BenchMachine.CoresAndGc}, pid {Environment.ProcessId}");
        await using var node = await BenchNode.StartAsync(BenchNode.Args(database, broker, ClusterRoles.Processor, FreePort.Next(),
            $"--SmartGrid:Http:ManagementPort={FreePort.Next()}",
            "--SmartGrid:Pipeline:PassivateAfter=01:00:00",
            "--Logging:LogLevel:Default=Warning"));
        var region = node.Meters;
        var ids = Enumerable.Range(0, meters).Select(BenchReadings.MeterId).ToArray();
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(1), WindowSize.FifteenMinutes);
        var random = new Random(7);
        var batches = ids.Select((id, m) => (IReadOnlyList<TelemetryReading>)Enumerable.Range(0, readings)
            .Select(t => BenchReadings.Create(id, m, start + TimeSpan.FromSeconds(10 * t), random)).ToArray()).ToArray();

        // One meter first, so the heap baseline holds the shard machinery's one-off costs (region, first shard, journal pools).
        await RecordAsync(region, ids[0], batches[0]);
        var before = MeterBench.Heap();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(1, meters - 1), new ParallelOptions { MaxDegreeOfParallelism = 256 },
            async (m, _) => await RecordAsync(region, ids[m], batches[m]));
        var elapsed = clock.Elapsed;
        Array.Clear(batches); // the readings sent are not the meters' cost
        var after = MeterBench.Heap();

        var active = await node.ActiveMetersAsync();
        var status = await region.Ask<MeterStatus>(new GetMeterStatus(ids[^1]), AskTimeout);
        Console.WriteLine($"{meters:N0} meters recorded and checkpointed in {elapsed.TotalSeconds:0.0} s ({meters / elapsed.TotalSeconds:N0} meters/s); " +
                          $"{active:N0} active; the last holds {status.AcceptedTotal} readings in {status.OpenWindows.Count} open windows");
        Console.WriteLine($"heap: {before / 1048576.0:0.0} MiB before, {after / 1048576.0:0.0} MiB after");
        Console.WriteLine($"heap bytes per meter actor: {(after - before) / Math.Max(1, active - 1)}");
        if (hold > 0)
        {
            Console.WriteLine($"holding {hold} s: dotnet-gcdump collect -p {Environment.ProcessId}");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }
        return active == meters && status.AcceptedTotal == readings ? 0 : 1;
    }

    private static async Task RecordAsync(IActorRef region, string meterId, IReadOnlyList<TelemetryReading> batch)
    {
        var recorded = await region.Ask<ReadingsRecorded>(new RecordReadings(meterId, batch), AskTimeout);
        await region.Ask<MeterCheckpointed>(new CheckpointMeter(meterId, recorded.Incarnation), AskTimeout);
    }
}
