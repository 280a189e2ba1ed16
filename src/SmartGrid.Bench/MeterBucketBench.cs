using Akka.Actor;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Bench;

/// <summary>
/// `bench meter-buckets`: managed heap per meter held in memory, everything around the state included (its entry in
/// its bucket, the bucket's share, shard maps). A processor node in this process, on a fresh database and an
/// embedded broker nobody produces to; N meters each get one batch of readings and its checkpoint straight through
/// the shard region, a bucket's meters together as the telemetry consumer sends them, so each holds warm state and has
/// written to the journal.
/// The heap is measured after full collections before the first meter and after the last, with every meter active
/// (passivation is pushed past the run). <c>--hold</c> keeps the node up afterwards, for a heap dump of the process
/// (dotnet-gcdump collect -p PID) that breaks the bytes down by type.
/// </summary>
internal static class MeterBucketBench
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 100_000, "meters started and kept active");
    internal static readonly Option<int> Readings = BenchOptions.Int("--readings", 12, "readings per meter, in one batch (10 s apart)");
    internal static readonly Option<int> Hold = BenchOptions.Int("--hold", 0, "seconds to keep the node up after measuring, for a heap dump", minimum: 0);

    internal static async Task<int> RunAsync(int meters, int readings, int hold)
    {
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var database = await BenchDatabase.CreateAsync();
        Console.WriteLine($"meter buckets bench: {meters:N0} meters × {readings} readings, {BenchMachine.CoresAndGc}, pid {Environment.ProcessId}");
        await using var node = await BenchNode.StartAsync(BenchNode.Args(database, broker, ClusterRoles.Processor, FreePort.Next(),
            $"--SmartGrid:Http:ManagementPort={FreePort.Next()}",
            "--SmartGrid:Pipeline:PassivateAfter=01:00:00",
            "--Logging:LogLevel:Default=Warning"));
        var region = node.Meters;
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(1), WindowSize.FifteenMinutes);
        // Ids and readings are made as each group is sent, not held from before the baseline to after it: held, they
        // counted in the baseline and not after (about 1.8 KB of readings a meter), and a meter's id is its own cost.
        var group = new GroupMaker(start, readings);

        // One meter first, so the heap baseline holds the shard machinery's one-off costs (region, first shard, journal pools).
        await RecordAsync(region, group.Of([0]));
        var before = MeterBench.Heap();
        var rssBefore = Rss();
        var clock = Stopwatch.StartNew();
        var byBucket = Enumerable.Range(1, meters - 1).GroupBy(m => MeterMessageExtractor.ShardOf(BenchReadings.MeterId(m)));
        await Parallel.ForEachAsync(byBucket, new ParallelOptions { MaxDegreeOfParallelism = 32 },
            async (bucket, _) =>
            {
                foreach (var chunk in bucket.Chunk(GroupMeters)) await RecordAsync(region, group.Of(chunk));
            });
        var elapsed = clock.Elapsed;
        var after = MeterBench.Heap();
        var rssAfter = Rss();

        var active = await node.ActiveMetersAsync();
        var status = await region.Ask<MeterStatus>(new GetMeterStatus(BenchReadings.MeterId(meters - 1)), AskTimeout);
        Console.WriteLine($"{meters:N0} meters recorded and checkpointed in {elapsed.TotalSeconds:0.0} s ({meters / elapsed.TotalSeconds:N0} meters/s); " +
                          $"{active:N0} active; the last holds {status.AcceptedTotal} readings in {status.OpenWindows.Count} open windows");
        Console.WriteLine($"heap: {before / 1048576.0:0.0} MiB before, {after / 1048576.0:0.0} MiB after");
        // RSS holds what the heap does not (the broker's native buffers, Npgsql's, the GC's free space), so it is only a bound.
        Console.WriteLine($"rss: {rssBefore / 1048576.0:0.0} MiB before, {rssAfter / 1048576.0:0.0} MiB after; {(rssAfter - rssBefore) / Math.Max(1, active - 1)} B per meter");
        Console.WriteLine($"heap bytes per meter: {(after - before) / Math.Max(1, active - 1)}");
        if (hold > 0)
        {
            Console.WriteLine($"holding {hold} s: dotnet-gcdump collect -p {Environment.ProcessId}");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }
        return active == meters && status.AcceptedTotal == readings ? 0 : 1;
    }

    private static long Rss()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    /// <summary>Meters of one bucket in one group, about what a telemetry group brings a bucket at a million meters.</summary>
    private const int GroupMeters = 500;

    /// <summary>Meters of one bucket, recorded in one group and checkpointed.</summary>
    private static async Task RecordAsync(IActorRef region, RecordReadings group)
    {
        var recorded = await region.Ask<ReadingsRecorded>(group, AskTimeout);
        await region.Ask<ReadingsCheckpointed>(new CheckpointReadings(group.BucketId, recorded.Incarnation), AskTimeout);
    }

    /// <summary>A meter's batch is the same whenever it is made: its readings' randomness is seeded by the meter.</summary>
    private sealed class GroupMaker(DateTimeOffset start, int readings)
    {
        public RecordReadings Of(int[] meters)
        {
            var ids = meters.Select(BenchReadings.MeterId).ToArray();
            return new RecordReadings(MeterMessageExtractor.ShardOf(ids[0]), meters.Select((m, i) =>
            {
                var random = new Random(m);
                return new MeterReadings(ids[i], Enumerable.Range(0, readings)
                    .Select(t => BenchReadings.Create(ids[i], m, start + TimeSpan.FromSeconds(10 * t), random)).ToArray());
            }).ToList());
        }
    }
}
