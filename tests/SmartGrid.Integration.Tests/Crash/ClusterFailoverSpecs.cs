using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Pipeline;
using SmartGrid.Kafka;
using SmartGrid.Simulator;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Crash;

/// <summary>
/// Two processor nodes share the meters and the raw_readings partitions while the simulator streams
/// at 500 readings/s; one is killed with SIGKILL mid-stream. The survivor downs it (split-brain
/// resolver), takes over its shards and partitions, replays what was not checkpointed, and every
/// aggregate row still equals the ground truth computed from what the simulator sent. Each spec prints
/// the time from the kill to processing (every partition committed past the kill point) and to the truth.
/// </summary>
public sealed class ClusterFailoverSpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(180);

    private readonly List<NodeProcess> _nodes = [];
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"sg-failover-{Guid.NewGuid():N}");
    private EmbeddedKafkaBroker _broker = null!;
    private TestDatabase _database = null!;
    private bool _passed;

    public async Task InitializeAsync()
    {
        _broker = EmbeddedKafkaBroker.Start(Topics.All);
        _database = await TestDatabase.CreateAsync("sg_failover");
    }

    /// <summary>Time from the kill until the survivor has processed every partition past the kill point.</summary>
    private static readonly TimeSpan ProcessingDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Should_keep_every_aggregate_equal_to_the_truth_when_a_processor_is_killed_under_500_readings_per_second()
    {
        // The survivor must hold the lowest address: with two members, keep-majority keeps that side.
        var ports = new[] { FreePort.Next(), FreePort.Next() }.Order().ToArray();
        var seed = $"akka.tcp://smartgrid@127.0.0.1:{ports[0]}";
        await RunFailoverAsync(async () =>
        {
            var survivor = await StartNodeAsync(ports[0], seed, "MemberUp");
            var victim = await StartNodeAsync(ports[1], seed, "MemberUp");
            return (survivor, victim);
        });
    }

    /// <summary>
    /// The victim is the oldest member, so it hosts the cluster singletons (the shard coordinators and both
    /// projections) as well as its share of the partitions: the survivor must take all of them over. The survivor
    /// holds the lower address, which is what keep-majority keeps when two members split one against one (README "Failover").
    /// </summary>
    [Fact]
    public async Task Should_take_over_the_singletons_and_partitions_of_a_killed_oldest_processor_and_reach_the_truth()
    {
        var ports = new[] { FreePort.Next(), FreePort.Next() }.Order().ToArray();
        var victimSeed = $"akka.tcp://smartgrid@127.0.0.1:{ports[1]}";
        await RunFailoverAsync(async () =>
        {
            var victim = await StartNodeAsync(ports[1], victimSeed, "MemberUp");
            await victim.WaitForLogAsync("Singleton manager started singleton actor", ReadyTimeout);
            var survivor = await StartNodeAsync(ports[0], victimSeed, "MemberUp");
            return (survivor, victim);
        });
    }

    private async Task RunFailoverAsync(Func<Task<(NodeProcess Survivor, NodeProcess Victim)>> startNodes)
    {
        try
        {
            var (survivor, victim) = await startNodes();
            // Both see both Up, and the cluster has split the partitions between them.
            await Task.WhenAll(survivor.WaitForLogAsync(NodeProcess.ReadingPartitions(2), ReadyTimeout),
                victim.WaitForLogAsync(NodeProcess.ReadingPartitions(2), ReadyTimeout));

            var sent = new ConcurrentQueue<TelemetryReading>();
            using var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5,
                // As ingestion's producers: each meter in the partition its shard follows.
                Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
            }).Build();
            var sink = new RecordingSink(new KafkaTelemetrySink(producer, TimeSpan.FromSeconds(30)), sent);
            // 500 meters, one reading each per 10 s of event time, 10× compressed: 500 readings/s for 40 s.
            var simulator = new SimulatorOptions
            {
                Meters = 500, Seed = 3, Speed = 10, Rate = 500, BatchSize = 250, MaxInFlight = 1, Mode = SimulatorMode.Kafka,
                StartAt = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(3), WindowSize.FifteenMinutes),
                Duration = TimeSpan.FromMinutes(400.0 / 60),
            };
            var streaming = Task.Run(() => SimulatorRun.RunAsync(simulator, sink, CancellationToken.None));

            // Kill a quarter of the way through, once the victim has reported readings processed by its own meters, or
            // knows it reads no partition (the cluster's hash gives a member of two none of the six about once in 64
            // clusters; its meters' shards still fail over).
            while (sent.Count < 5_000 || !System.Text.RegularExpressions.Regex.IsMatch(victim.Tail(200), @"processed [1-9]")
                   && !System.Text.RegularExpressions.Regex.IsMatch(victim.Tail(int.MaxValue), @"telemetry partitions: reading \[\][^\n]*processors \S+ Up, \S+ Up\b"))
            {
                Assert.False(streaming.IsCompleted, "the stream ended before the victim processed anything");
                await Task.Delay(100);
            }
            await victim.KillAsync(TimeSpan.FromSeconds(10));
            var sinceKill = Stopwatch.StartNew();
            output.WriteLine($"killed processor pid {victim.Id} after {sent.Count} readings sent");
            var lastSent = streaming.ContinueWith(_ => sinceKill.Elapsed, TaskScheduler.Default);

            await using var progress = PartitionProgress.Start(_broker.BootstrapServers, sinceKill);
            var processingAt = await progress.AllResumedAsync(ProcessingDeadline);
            output.WriteLine($"processing: every raw_readings partition processed past the kill point {processingAt.TotalSeconds:0.0} s after the kill " +
                             $"(by partition: {string.Join(", ", progress.Resumed.OrderBy(p => p.Key).Select(p => $"{p.Key}: {p.Value.TotalSeconds:0.0} s"))})");

            var totals = await streaming;
            var lastSentAt = await lastSent;
            Assert.Equal(0, totals.Failed);
            output.WriteLine($"simulator: {totals.Sent} sent at {totals.ReadingsPerSecond:0} readings/s, the last {lastSentAt.TotalSeconds:0.0} s after the kill");
            var truth = GroundTruth.Of(sent, PipelineNode.Lateness);
            await PipelineAssertions.WaitForTruthAsync(_database.ConnectionString, truth, RecoveryDeadline, output);
            var truthAt = sinceKill.Elapsed;
            output.WriteLine($"truth: every aggregate equals the truth {truthAt.TotalSeconds:0.0} s after the kill, " +
                             $"{(truthAt - lastSentAt).TotalSeconds:0.0} s after the last reading was sent " +
                             $"({truth.Accepted} readings, {truth.OneMinute.Count} 1m rows, {truth.FifteenMinutes.Count} 15m rows)");

            // The replays must have found the dead node's meters at their new homes: an ask routed to the dead node's
            // region is never answered, and only the ask timeout (a minute) then restarts the survivor's consumer.
            var survivorLog = await File.ReadAllTextAsync(survivor.LogFile);
            Assert.DoesNotContain("Kafka consumer stream-processor-group: restarting after a failure", survivorLog);

            _passed = true;
        }
        catch
        {
            foreach (var (node, i) in _nodes.Select((n, i) => (n, i + 1)))
            {
                output.WriteLine($"--- node {i} (pid {node.Id}, {(node.HasExited ? $"exited {node.ExitCode}" : "running")}), log {node.LogFile}, last lines:");
                output.WriteLine(node.Tail());
            }
            throw;
        }
    }

    private async Task<NodeProcess> StartNodeAsync(int port, string seed, string readyLine)
    {
        var node = NodeProcess.Start(
        [
            $"--ConnectionStrings:Postgres={_database.ConnectionString}",
            "--SmartGrid:Roles=processor",
            $"--SmartGrid:Cluster:Port={port}",
            $"--SmartGrid:Cluster:SeedNodes:0={seed}",
            $"--SmartGrid:Kafka:BootstrapServers={_broker.BootstrapServers}",
            "--SmartGrid:Pipeline:IdleClose=00:00:02",
            // Meters passivate as soon as they are idle, so the survivor meets meters that come back from their snapshots.
            "--SmartGrid:Pipeline:PassivateAfter=00:00:01",
            // The journal behind snapshots and projection offsets is cleaned every second, so recoveries meet cleaned journals.
            "--SmartGrid:Pipeline:JournalCleanupInterval=00:00:01",
            $"--SmartGrid:Pipeline:AllowedLateness={PipelineNode.Lateness}",
            "--SmartGrid:Simulator:Enabled=false",
            $"--SmartGrid:Http:ManagementPort={FreePort.Next()}",
        ], Path.Combine(_logDir, $"node-{_nodes.Count + 1}.log"));
        _nodes.Add(node);
        await node.WaitForLogAsync(readyLine, ReadyTimeout);
        return node;
    }

    /// <summary>Keeps, in order, every reading the broker acknowledged: the ground truth's input.</summary>
    private sealed class RecordingSink(ITelemetrySink inner, ConcurrentQueue<TelemetryReading> sent) : ITelemetrySink
    {
        public async Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct)
        {
            var result = await inner.SendAsync(batch, ct);
            foreach (var r in batch) sent.Enqueue(r);
            return result;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) node.Dispose();
        if (_passed && Environment.GetEnvironmentVariable("SMARTGRID_KEEP_NODE_LOGS") != "1" && Directory.Exists(_logDir))
            Directory.Delete(_logDir, recursive: true);
        try
        {
            if (_database is not null) await _database.DisposeAsync();
        }
        finally
        {
            _broker?.Dispose();
        }
    }
}
