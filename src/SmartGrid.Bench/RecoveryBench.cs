using System.Collections.Concurrent;
using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Bench;

/// <summary>
/// `bench recovery`: how long a processor node needs after a restart until every meter is back. Feeds N meters × R
/// readings through Kafka (an embedded broker in this process, which outlives the node) into a node on a fresh
/// database, waits until every meter reports them all, stops the node, starts a new one on the same journal and
/// times until every meter has answered <see cref="GetMeterStatus"/> — which its bucket does only once it has loaded
/// the meter from its snapshot and events — with the AcceptedTotal it was sent.
/// </summary>
internal static class RecoveryBench
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 5_000, "meters to recover");
    internal static readonly Option<int> Readings = BenchOptions.Int("--readings", 20, "readings journaled per meter before the restart");
    internal static readonly Option<int> Parallelism = BenchOptions.Int("--parallelism", 256, "state asks in flight after the restart");

    internal static async Task<int> RunAsync(int meters, int readings, int parallelism)
    {
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var database = await BenchDatabase.CreateAsync();
        Console.WriteLine($"recovery bench: {meters:N0} meters × {readings} readings, {BenchMachine.CoresAndGc}, " +
                          $"database {database.Name}, broker {broker.BootstrapServers}");
        // One cluster port for both lives: the same address, as a restarted node has.
        var nodeArgs = BenchNode.Args(database, broker, ClusterRoles.Processor, FreePort.Next(), "--Logging:LogLevel:Default=Warning");
        var meterIds = Enumerable.Range(0, meters).Select(BenchReadings.MeterId).ToList();

        // 1. First life: every reading in, durably.
        var clock = Stopwatch.StartNew();
        BenchNode? node = await BenchNode.StartAsync(nodeArgs);
        Console.WriteLine($"node 1 up in {clock.Elapsed.TotalSeconds:0.00} s");
        clock.Restart();
        var sent = Produce(broker.BootstrapServers, meterIds, readings);
        Console.WriteLine($"produced {sent:N0} readings in {clock.Elapsed.TotalSeconds:0.00} s");
        var first = await AskAllAsync(node.Meters, meterIds, readings, parallelism, untilAllMatch: TimeSpan.FromMinutes(10));
        if (first.Wrong + first.Unanswered > 0)
        {
            Console.Error.WriteLine($"recovery: {first.Wrong + first.Unanswered} meter(s) never reported {readings} accepted readings");
            return 1;
        }
        var ingest = clock.Elapsed;
        Console.WriteLine($"all meters report {readings} accepted {ingest.TotalSeconds:0.00} s after the first produce " +
                          $"({sent / ingest.TotalSeconds:N0} readings/s end to end)");
        clock.Restart();
        await node.DisposeAsync();
        Console.WriteLine($"node 1 stopped (graceful) in {clock.Elapsed.TotalSeconds:0.00} s; journal: " +
                          $"{await database.ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id LIKE 'meter-%'"):N0} meter events, " +
                          $"{await database.ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id LIKE '/sharding/%'"):N0} sharding events " +
                          $"(coordinators, remembered entities), {await database.ScalarAsync("SELECT count(*) FROM journal"):N0} in all; " +
                          $"{await database.ScalarAsync("SELECT count(*) FROM snapshot"):N0} snapshots");
        var storage = await database.StoragePerMeterAsync(meters);
        Console.WriteLine(storage);
        Console.WriteLine(storage.Figure);
        node = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = Memory();

        // 2. Second life: time until every meter has its state back.
        clock.Restart();
        node = await BenchNode.StartAsync(nodeArgs);
        var started = clock.Elapsed;
        var second = await AskAllAsync(node.Meters, meterIds, readings, parallelism, untilAllMatch: null);
        var recovered = clock.Elapsed;
        var after = Memory();
        await node.DisposeAsync();

        var afterStart = recovered - started;
        Console.WriteLine();
        Console.WriteLine($"meters                  {meters,10:N0}");
        Console.WriteLine($"events (readings)       {sent,10:N0}");
        Console.WriteLine($"node start              {started.TotalSeconds,10:0.00} s  (Build + StartAsync)");
        Console.WriteLine($"all meters recovered    {recovered.TotalSeconds,10:0.00} s  after the restart began = {meters / recovered.TotalSeconds:N0} meters/s " +
                          $"({afterStart.TotalSeconds:0.00} s after StartAsync = {meters / afterStart.TotalSeconds:N0} meters/s)");
        Console.WriteLine($"status asks             {second.Asks,10:N0}  (parallelism {parallelism}); wrong AcceptedTotal {second.Wrong}, unanswered {second.Unanswered}");
        // Remembered entities all start recovering at once; the asks (in meter order) only wait for them, so the
        // last answer marks the end of the recovery, while the shape of the answer curve says little.
        if (second.AnsweredAt.Count > 0)
            Console.WriteLine($"first answer            {second.AnsweredAt[0].TotalSeconds,10:0.00} s  after StartAsync");
        Console.WriteLine($"process memory          before restart: {before}");
        Console.WriteLine($"                        all recovered:  {after}");
        if (second.Wrong + second.Unanswered > 0)
        {
            Console.Error.WriteLine($"recovery: {second.Wrong} meter(s) recovered with an AcceptedTotal other than {readings}, {second.Unanswered} did not answer");
            return 1;
        }
        return 0;
    }

    /// <summary>
    /// Asks every meter for its status with bounded parallelism. With <paramref name="untilAllMatch"/> a meter that does
    /// not yet report <paramref name="expected"/> is asked again until that deadline (ingestion still running); without,
    /// each meter is asked once (a timed-out ask is repeated): after a restart the first answer comes from the recovered state.
    /// </summary>
    private static async Task<(int Asks, int Wrong, int Unanswered, List<TimeSpan> AnsweredAt)> AskAllAsync(IActorRef meters,
        IReadOnlyList<string> meterIds, long expected, int parallelism, TimeSpan? untilAllMatch)
    {
        var clock = Stopwatch.StartNew();
        var answeredAt = new ConcurrentBag<TimeSpan>();
        var until = DateTime.UtcNow + (untilAllMatch ?? TimeSpan.FromMinutes(10));
        var pending = meterIds;
        var asks = 0;
        var wrong = 0;
        while (pending.Count > 0 && DateTime.UtcNow < until)
        {
            var again = new ConcurrentBag<string>();
            var wrongNow = 0;
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (id, ct) =>
            {
                Interlocked.Increment(ref asks);
                try
                {
                    var status = await meters.Ask<MeterStatus>(new GetMeterStatus(id), AskTimeout, ct);
                    if (status.AcceptedTotal == expected) { answeredAt.Add(clock.Elapsed); return; }
                    if (untilAllMatch is not null) again.Add(id);
                    else Interlocked.Increment(ref wrongNow);
                }
                catch (AskTimeoutException)
                {
                    again.Add(id);
                }
            });
            wrong = wrongNow;
            pending = again.ToList();
            if (pending.Count > 0 && untilAllMatch is not null) await Task.Delay(500);
        }
        return (asks, wrong, pending.Count, answeredAt.Order().ToList());
    }

    /// <summary>Tick by tick (every meter once per 10 s of event time, the last tick a minute ago), keyed by meter, zstd.</summary>
    private static int Produce(string bootstrap, List<string> meterIds, int readings)
    {
        var start = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(10 * readings) - TimeSpan.FromMinutes(1);
        var random = new Random(42);
        var sent = 0;
        using var producer = new BenchProducer(bootstrap);
        for (var t = 0; t < readings; t++)
            for (var m = 0; m < meterIds.Count; m++)
            {
                producer.Produce(BenchReadings.Create(meterIds[m], m, start + TimeSpan.FromSeconds(10 * t), random));
                sent++;
            }
        producer.Flush();
        return sent;
    }

    private static string Memory()
    {
        using var self = Process.GetCurrentProcess();
        return $"working set {self.WorkingSet64 / 1048576.0:N0} MiB, GC heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:N0} MiB " +
               $"(live objects {GC.GetTotalMemory(forceFullCollection: false) / 1048576.0:N0} MiB)";
    }

}
