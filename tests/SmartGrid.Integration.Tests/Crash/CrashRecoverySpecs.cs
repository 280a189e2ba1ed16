using System.Diagnostics;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Pipeline;
using SmartGrid.Kafka;
using SmartGrid.Storage;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Crash;

/// <summary>
/// The product's promise under the worst kind of failure: kill -9 the processor node mid-stream, keep producing
/// while it is down, start a new one, and every accepted reading must be in the aggregate tables exactly once.
/// The broker and the database live outside the node (broker in this test process), as they would in production.
/// </summary>
public sealed class CrashRecoverySpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan TruthDeadline = TimeSpan.FromSeconds(120);
    /// <summary>What the node logs when the raw_readings partitions are its own (the cluster gives them to it once it is Up).</summary>
    private const string AssignedLogLine = "Kafka consumer stream-processor-group: assigned";

    private readonly List<NodeProcess> _nodes = [];
    private readonly GroundTruth.Tree _tree = ReadingScenario.Tree(meters: 40);
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"sg-crash-{Guid.NewGuid():N}");
    private EmbeddedKafkaBroker _broker = null!; // set in InitializeAsync
    private TestDatabase _database = null!;
    private List<string> _nodeArgs = null!;
    private bool _passed;

    public async Task InitializeAsync()
    {
        _broker = EmbeddedKafkaBroker.Start(Topics.All);
        _database = await TestDatabase.CreateAsync("sg_crash");
        // The meters hang on a tree before the first node starts, so every regional window is published with its transformers'
        // and feeders' windows, which must come out exactly once too.
        await using (var storage = StorageServices.Create(_database.ConnectionString))
        {
            await storage.InitializeAsync();
            await RegionCatalog.SeedIfEmptyAsync(storage.DataSource, Regions.Defaults);
            var rows = _tree.TransformerOf.Select((m, i) => (m, i)).Select(x => new TopologyImportRow(x.i + 1, x.m.Key, x.m.Value,
                _tree.Transformers[x.m.Value].Feeder, _tree.Transformers[x.m.Value].Region, _tree.Transformers[x.m.Value].RatedKw,
                _tree.Feeders[_tree.Transformers[x.m.Value].Feeder])).ToList();
            Assert.All(await storage.Topology.ImportAsync(rows, DateTimeOffset.UtcNow.AddDays(-1)), r => Assert.Empty(r.Errors));
        }
        _nodeArgs =
        [
            $"--ConnectionStrings:Postgres={_database.ConnectionString}",
            "--SmartGrid:Roles=processor",
            $"--SmartGrid:Cluster:Port={FreePort.Next()}",
            $"--SmartGrid:Kafka:BootstrapServers={_broker.BootstrapServers}",
            "--SmartGrid:Pipeline:IdleClose=00:00:02",
            // Meters passivate as soon as they are idle, so replays and restarts meet meters that come back from their snapshots.
            "--SmartGrid:Pipeline:PassivateAfter=00:00:01",
            // The journal behind snapshots and projection offsets is cleaned every second, so recoveries meet cleaned journals.
            "--SmartGrid:Pipeline:JournalCleanupInterval=00:00:01",
            $"--SmartGrid:Pipeline:AllowedLateness={PipelineNode.Lateness}",
            // Small groups and frequent checkpoints: the node makes visible progress in many small
            // steps, so a kill lands between checkpoints, with applied but unpersisted readings.
            "--SmartGrid:Pipeline:MaxBatch=200",
            "--SmartGrid:Pipeline:MaxBatchInterval=00:00:00.200",
            "--SmartGrid:Pipeline:CheckpointInterval=00:00:00.500",
            "--SmartGrid:Simulator:Enabled=false",
            $"--SmartGrid:Http:IngestPort={FreePort.Next()}",
            $"--SmartGrid:Http:GatewayPort={FreePort.Next()}",
        ];
    }

    [Fact]
    public async Task Should_store_every_accepted_reading_exactly_once_after_the_node_is_killed_mid_stream()
    {
        var (stream, truth) = Scenario();
        var cut = stream.Count * 6 / 10;
        await RunGuardedAsync(async () =>
        {
            var first = await StartNodeAsync();
            await PipelineNode.ProduceAsync(_broker.BootstrapServers, stream.Take(cut));
            await WaitForProgressThenKillAsync(first, truth);

            await PipelineNode.ProduceAsync(_broker.BootstrapServers, stream.Skip(cut));
            var restartedAt = Stopwatch.StartNew();
            await StartNodeAsync();
            await AssertTruthAfterReplayAsync(truth, restartedAt, "restart");

            // The raw archive too: every partition committed to its end, every distinct reading stored once.
            await WaitUntilGroupCommittedEverythingAsync(PipelineHosting.ArchiveGroupId, TruthDeadline);
            Assert.Equal(stream.Select(r => (r.MeterId, r.Timestamp.UtcTicks)).Distinct().Count(), await CountAsync("raw_readings"));
        });
    }

    [Fact]
    public async Task Should_store_every_accepted_reading_exactly_once_after_a_second_kill_during_the_replay()
    {
        var (stream, truth) = Scenario();
        var cut = stream.Count * 6 / 10;
        await RunGuardedAsync(async () =>
        {
            var first = await StartNodeAsync();
            await PipelineNode.ProduceAsync(_broker.BootstrapServers, stream.Take(cut));
            await WaitForProgressThenKillAsync(first, truth);

            // The second node replays the uncommitted tail and goes on with the rest, which arrives in a trickle:
            // kill it once it has the partitions and has written something new, i.e. in the middle of its catch-up
            // (a backlog sent all at once would be checkpointed and projected in one go, leaving no middle).
            var second = await StartNodeAsync();
            await second.WaitForLogAsync(AssignedLogLine, TimeSpan.FromSeconds(90));
            var rest = stream.Skip(cut).ToList();
            var trickle = Task.Run(async () =>
            {
                foreach (var chunk in rest.Chunk(Math.Max(1, rest.Count / 20)))
                {
                    await PipelineNode.ProduceAsync(_broker.BootstrapServers, chunk);
                    await Task.Delay(250);
                }
            });
            await WaitForProgressThenKillAsync(second, truth, moreThan: await CountAsync("aggregates_1m"));
            await trickle;

            var restartedAt = Stopwatch.StartNew();
            await StartNodeAsync();
            await AssertTruthAfterReplayAsync(truth, restartedAt, "second restart");
        });
    }

    /// <summary>
    /// The tables can reach the truth before the new node has even re-read the uncommitted tail (the killed node
    /// may have persisted it, and idle meters close their windows on their own), so reaching the truth once is
    /// not enough: wait until the processor group has committed every raw_readings record — the replay is over —
    /// let the last windows close and project, and compare again.
    /// </summary>
    private async Task AssertTruthAfterReplayAsync(GroundTruth truth, Stopwatch sinceRestart, string what)
    {
        await PipelineAssertions.WaitForTruthAsync(_database.ConnectionString, truth, TruthDeadline, output);
        var truthAt = sinceRestart.Elapsed;
        await WaitUntilGroupCommittedEverythingAsync(TelemetryConsumer.GroupId, TruthDeadline);
        var committedAt = sinceRestart.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(5)); // idle close (2 s) + projection polling, for windows the replay touched
        await PipelineAssertions.WaitForTruthAsync(_database.ConnectionString, truth, TimeSpan.FromSeconds(30), output);
        output.WriteLine($"{what} → ground truth in {truthAt.TotalSeconds:0.0} s; every raw reading committed after " +
                         $"{committedAt.TotalSeconds:0.0} s; still the truth after the replay");
    }

    /// <summary>Polls a group's committed offsets (OffsetFetch, without joining the group) until they reach the log ends.</summary>
    private async Task WaitUntilGroupCommittedEverythingAsync(string groupId, TimeSpan timeout)
    {
        KafkaNative.EnsureLoaded();
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = _broker.BootstrapServers, GroupId = groupId, EnableAutoCommit = false,
        }).Build();
        var partitions = Enumerable.Range(0, Topics.RawReadings.Partitions)
            .Select(p => new TopicPartition(Topics.RawReadings, p)).ToList();
        var until = DateTime.UtcNow + timeout;
        long lag;
        do
        {
            var committed = probe.Committed(partitions, TimeSpan.FromSeconds(5));
            lag = committed.Sum(c => probe.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(5)).High.Value
                                     - (c.Offset.IsSpecial ? 0 : c.Offset.Value));
            if (lag == 0) return;
            await Task.Delay(250);
        } while (DateTime.UtcNow < until);
        Assert.Fail($"{groupId} still had {lag} uncommitted raw_readings record(s) after {timeout}");
    }

    private (List<TelemetryReading> Stream, GroundTruth Truth) Scenario()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(2), WindowSize.FifteenMinutes);
        var stream = ReadingScenario.Generate(meters: 40, span: TimeSpan.FromMinutes(32), start, seed: 11);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        truth.Placed = _tree;
        Assert.True(truth.Duplicates > 100 && truth.TooLate > 5, $"scenario too tame: {truth.Duplicates} duplicates, {truth.TooLate} too late");
        output.WriteLine($"{stream.Count} readings to send, {truth.Accepted} accepted, {truth.Duplicates} duplicates, {truth.TooLate} too late; " +
                         $"{truth.OneMinute.Count} 1m rows, {truth.FifteenMinutes.Count} 15m rows expected");
        return (stream, truth);
    }

    private async Task<NodeProcess> StartNodeAsync()
    {
        var node = NodeProcess.Start(_nodeArgs, Path.Combine(_logDir, $"node-{_nodes.Count + 1}.log"));
        _nodes.Add(node);
        var clock = Stopwatch.StartNew();
        await node.WaitForLogAsync("MemberUp", ReadyTimeout);
        output.WriteLine($"node {_nodes.Count} (pid {node.Id}) up in {clock.Elapsed.TotalSeconds:0.0} s");
        return node;
    }

    /// <summary>
    /// Kills the node (SIGKILL) as soon as it has visibly done some work — more than <paramref name="moreThan"/>
    /// 1-minute rows — and before it has finished, and checks that it really died.
    /// </summary>
    private async Task WaitForProgressThenKillAsync(NodeProcess node, GroundTruth truth, long moreThan = 0)
    {
        var until = DateTime.UtcNow + ReadyTimeout;
        long rows;
        while ((rows = await CountAsync("aggregates_1m")) <= moreThan)
        {
            Assert.False(node.HasExited, $"node pid {node.Id} exited (code {(node.HasExited ? node.ExitCode : 0)}) before it made progress");
            Assert.True(DateTime.UtcNow < until, $"node pid {node.Id} wrote no aggregates_1m rows (beyond {moreThan}) within {ReadyTimeout}");
            await Task.Delay(25);
        }
        await node.KillAsync(TimeSpan.FromSeconds(10));
        Assert.True(node.HasExited, $"node pid {node.Id} survived SIGKILL");
        // 137 = 128 + SIGKILL: it did not exit on its own.
        if (OperatingSystem.IsLinux()) Assert.Equal(137, node.ExitCode);
        Assert.True(rows < truth.OneMinute.Count, $"node finished before it was killed ({rows} of {truth.OneMinute.Count} rows)");
        output.WriteLine($"killed pid {node.Id} (exit {node.ExitCode}) with {rows} of {truth.OneMinute.Count} 1m rows written");
    }

    private async Task<long> CountAsync(string table)
    {
        try
        {
            await using var conn = new NpgsqlConnection(_database.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {table}", conn);
            return (long)(await cmd.ExecuteScalarAsync())!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0; // the node has not migrated the schema yet
        }
    }

    /// <summary>Runs the body; on failure prints where each node's log is and its last lines, then rethrows.</summary>
    private async Task RunGuardedAsync(Func<Task> body)
    {
        try
        {
            await body();
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

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) node.Dispose();
        // SMARTGRID_KEEP_NODE_LOGS=1 keeps the node logs of a passing run too (to study a recovery timeline).
        if (_passed && Environment.GetEnvironmentVariable("SMARTGRID_KEEP_NODE_LOGS") != "1") Directory.Delete(_logDir, recursive: true);
        try
        {
            if (_database is not null) await _database.DisposeAsync(); // null when InitializeAsync failed
        }
        finally
        {
            _broker?.Dispose();
        }
    }
}
