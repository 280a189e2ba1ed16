using System.Runtime;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// `bench scale` (issue 15): a utility's fleet through one processor. An in-process node first
/// (registration, sustained readings/s, heap and RSS per meter, active vs passivated, PostgreSQL
/// bytes per meter), then node processes on the same journal: one is killed with SIGKILL in the
/// middle of a tick and a fresh one timed to its first processed reading and to the end of the
/// backlog; with <c>--failover</c> two processors, the younger killed. Event time is compressed:
/// ticks 10 s apart in event time follow each other as fast as the node takes them. The embedded
/// broker drops the oldest records past about 120,000 per partition, so the producer waits while
/// more than <see cref="MaxLagPerPartition"/> are unconsumed. "Processed" means committed by the
/// telemetry consumer, i.e. the readings are durable in their meters (checkpoint every second here).
/// </summary>
internal static class ScaleBench
{
    private const long MaxLagPerPartition = 40_000;
    private static readonly TimeSpan NodeReady = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan CatchUp = TimeSpan.FromMinutes(30);

    private const int FleetMeters = 1_000_000;
    private const int SoakMeters = 50_000;
    internal static readonly Option<int?> Meters =
        BenchOptions.OptionalInt("--meters", $"meters in the fleet [default: {FleetMeters:N0}, with --soak {SoakMeters:N0}]");
    internal static readonly Option<int> Readings = BenchOptions.Int("--readings", 2, "readings per meter");
    internal static readonly Option<bool> Failover = new("--failover") { Description = "two processors; one is killed with SIGKILL" };
    internal static readonly Option<bool> Soak = new("--soak") { Description = "lag and memory every 30 s instead" };
    internal static readonly Option<int> Minutes = BenchOptions.Int("--minutes", 30, "length of the --soak run");
    // The node's default session. Only the raw archive's consumer has one now: the telemetry consumer joins no group
    // (the cluster assigns its partitions), so a restart no longer waits for the killed process's session (README "Scale").
    internal static readonly Option<int> Session = BenchOptions.Int("--session", 6, "the nodes' Kafka consumer session (raw archive), seconds", minimum: 2, maximum: 60);
    // Tuning the stream's throughput needs only the in-process phase: the restart and failover phases take minutes more.
    internal static readonly Option<bool> ThroughputOnly = new("--throughput-only")
        { Description = "stop after the in-process phase (registration, sustained readings/s, memory, storage, GC)" };
    internal static readonly Option<int> Tick = BenchOptions.Int("--tick", 10,
        "seconds of wall time between --soak ticks; each is 10 s of event time, so less compresses it (--tick 1: 2 h of event time in 12 min)");

    internal static async Task<int> RunAsync(ParseResult parse)
    {
        var session = TimeSpan.FromSeconds(parse.GetValue(Session));
        if (parse.GetValue(Soak)) return await SoakAsync(parse.GetValue(Meters) ?? SoakMeters, parse.GetValue(Minutes), parse.GetValue(Tick), session);
        var meters = parse.GetValue(Meters) ?? FleetMeters;
        var ticks = parse.GetValue(Readings);
        var failover = parse.GetValue(Failover);
        var throughputOnly = parse.GetValue(ThroughputOnly);

        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var database = await BenchDatabase.CreateAsync();
        using var offsets = new GroupOffsets(broker.BootstrapServers, TelemetryConsumer.GroupId);
        using var producer = new BenchProducer(broker.BootstrapServers);
        var logDir = Path.Combine(Path.GetTempPath(), $"sg-scale-{Guid.NewGuid():N}");
        Console.WriteLine($"scale bench: {meters:N0} meters × {ticks} readings, Kafka session {session.TotalSeconds:0} s, {BenchMachine.CoresAndGc}, " +
                          $"database {database.Name}, node logs {logDir}");
        var ids = Enumerable.Range(0, meters).Select(BenchReadings.MeterId).ToList();
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(2), WindowSize.FifteenMinutes);
        var port = FreePort.Next();

        // 1. In this process: registration, throughput, memory, storage.
        BenchNode? node = await BenchNode.StartAsync(NodeArgs(database, broker, port, seedPort: null, session));
        var (heapBefore, rssBefore) = Memory();
        var clock = Stopwatch.StartNew();
        var registry = node.Services.GetRequiredService<MeterRegistry>();
        foreach (var chunk in ids.Select((id, i) => (id, BenchReadings.RegionOf(i))).Chunk(10_000))
            await registry.EnsureRegisteredAsync(chunk);
        var registration = clock.Elapsed;
        Console.WriteLine($"registered {meters:N0} meters in {registration.TotalSeconds:0.0} s");

        clock.Restart();
        long sent;
        var work = ProcessWork.Now();
        using (var progress = new Progress(offsets, clock))
        {
            sent = await ProduceAsync(producer, offsets, ids, start, 0, ticks, progress.Produced);
            await offsets.WaitAsync(o => o.CaughtUp, CatchUp);
        }
        var sustained = sent / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{sent:N0} readings processed in {clock.Elapsed.TotalSeconds:0.0} s = {sustained:N0} readings/s sustained");
        Console.WriteLine(ProcessWork.Now().Since(work, sent));

        var active = await node.ActiveMetersAsync();
        var (heapAfter, rssAfter) = Memory();
        var heapPerMeter = (heapAfter - heapBefore) / Math.Max(1, active);
        Console.WriteLine($"meters active {active:N0}, passivated {meters - active:N0}; managed heap +{(heapAfter - heapBefore) / 1048576.0:N0} MiB " +
                          $"= {heapPerMeter:N0} B per active meter, RSS +{(rssAfter - rssBefore) / 1048576.0:N0} MiB = {(rssAfter - rssBefore) / Math.Max(1, active):N0} B per active meter");
        var storage = await database.StoragePerMeterAsync(meters);
        Console.WriteLine(storage);
        await node.DisposeAsync();
        node = null;
        // The in-process phase's figures, as scripts read them: alone after --throughput-only, else among all the others.
        void PrintThroughput()
        {
            Console.WriteLine($"meters: {meters}");
            Console.WriteLine($"sustained readings/s: {sustained:0}");
            Console.WriteLine($"heap bytes per meter: {heapPerMeter}");
        }
        if (throughputOnly)
        {
            Console.WriteLine();
            PrintThroughput();
            return 0;
        }

        // 2. Node processes: SIGKILL in the middle of a tick, and a fresh process on the same journal.
        var first = await StartNodeAsync(database, broker, port, null, session, Path.Combine(logDir, "node-1.log"));
        var produced = 0L;
        var producing = ProduceAsync(producer, offsets, ids, start, ticks, 1, n => Interlocked.Exchange(ref produced, n));
        while (Interlocked.Read(ref produced) < meters / 2 && !producing.IsCompleted) await Task.Delay(50);
        await first.KillAsync(TimeSpan.FromSeconds(30));
        var sinceKill = Stopwatch.StartNew();
        var committedAtKill = offsets.Committed();
        var sinceStart = Stopwatch.StartNew();
        var second = NodeProcess.Start(NodeArgs(database, broker, port, seedPort: null, session), Path.Combine(logDir, "node-2.log"));
        await offsets.WaitAsync(o => o.Committed().Zip(committedAtKill, (now, then) => now > then).Any(advanced => advanced), NodeReady);
        var restartToFirst = sinceStart.Elapsed;
        Console.WriteLine($"SIGKILL of a node with {meters:N0} meters in its journal; a fresh process processed its first reading {restartToFirst.TotalSeconds:0.0} s after its start");
        sent += await producing;
        await offsets.WaitAsync(o => o.CaughtUp, CatchUp);
        var toTruth = sinceKill.Elapsed;
        Console.WriteLine($"every reading processed {toTruth.TotalSeconds:0.0} s after the kill");

        (TimeSpan Processing, TimeSpan Truth)? failed = null;
        TimeSpan? survivorGap = null;
        if (failover)
        {
            // 3. Two processors; the younger (higher address, so keep-majority keeps the other) is killed.
            var victimPort = FreePort.Next();
            while (victimPort <= port) victimPort = FreePort.Next();
            var victim = await StartNodeAsync(database, broker, victimPort, port, session, Path.Combine(logDir, "node-3.log"));
            await Task.Delay(TimeSpan.FromSeconds(10)); // the rebalance that gives it its partitions
            produced = 0;
            producing = ProduceAsync(producer, offsets, ids, start, ticks + 1, 1, n => Interlocked.Exchange(ref produced, n));
            while (Interlocked.Read(ref produced) < meters / 4 && !producing.IsCompleted) await Task.Delay(50);
            // The survivor's own partitions, as it last logged them, and how long each went without a commit through the failover.
            var survivorOwn = SurvivorPartitions(Path.Combine(logDir, "node-2.log"));
            using var gapOffsets = new GroupOffsets(broker.BootstrapServers, TelemetryConsumer.GroupId);
            using var gapsDone = new CancellationTokenSource();
            var gaps = new CommitGaps(survivorOwn);
            var measuringGaps = gaps.MeasureAsync(gapOffsets, gapsDone.Token);
            await victim.KillAsync(TimeSpan.FromSeconds(30));
            gaps.Killed();
            // To read the survivor's log against (its takeover's phases are timed from the kill).
            Console.WriteLine($"failover: killed the younger processor at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
            sinceKill.Restart();
            var endsAtKill = offsets.Ends();
            await offsets.WaitAsync(o => o.Committed().Zip(endsAtKill, (now, kill) => now >= kill).All(passed => passed), CatchUp);
            var processing = sinceKill.Elapsed;
            await gapsDone.CancelAsync();
            survivorGap = await measuringGaps;
            Console.WriteLine($"failover: the survivor's own partitions [{string.Join(",", survivorOwn)}] went at most {survivorGap.Value.TotalSeconds:0.0} s without a commit " +
                              "while they had readings waiting");
            sent += await producing;
            await offsets.WaitAsync(o => o.CaughtUp, CatchUp);
            failed = (processing, sinceKill.Elapsed);
            Console.WriteLine($"failover: the survivor processed every partition past the kill point {processing.TotalSeconds:0.0} s after the kill, everything {failed.Value.Truth.TotalSeconds:0.0} s after");
            victim.Dispose();
        }
        await second.KillAsync(TimeSpan.FromSeconds(30));
        second.Dispose();
        first.Dispose();

        Console.WriteLine();
        Console.WriteLine($"registration s: {registration.TotalSeconds:0.0}");
        Console.WriteLine($"active meters: {active}");
        Console.WriteLine($"passivated meters: {meters - active}");
        Console.WriteLine($"rss bytes per meter: {(rssAfter - rssBefore) / Math.Max(1, active)}");
        Console.WriteLine($"readings: {sent}");
        PrintThroughput();
        Console.WriteLine($"restart to first processed s: {restartToFirst.TotalSeconds:0.0}");
        Console.WriteLine($"time to truth s: {toTruth.TotalSeconds:0.0}");
        Console.WriteLine(storage.Figure);
        if (failed is { } f)
        {
            Console.WriteLine($"failover to processing s: {f.Processing.TotalSeconds:0.0}");
            Console.WriteLine($"failover to truth s: {f.Truth.TotalSeconds:0.0}");
            Console.WriteLine($"survivor partitions longest gap s: {survivorGap!.Value.TotalSeconds:0.0}");
        }
        return 0;
    }

    /// <summary>The partitions a node last said it reads (its "telemetry partitions: reading [..]" log line).</summary>
    private static List<int> SurvivorPartitions(string log)
    {
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var matches = System.Text.RegularExpressions.Regex.Matches(reader.ReadToEnd(), @"telemetry partitions: reading \[([0-9,]*)\]");
        if (matches.Count == 0) throw new InvalidOperationException($"{log} names no partitions the node reads");
        return matches[^1].Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
    }

    /// <summary>
    /// The longest time, from before a kill until stopped, that one of <paramref name="partitions"/> went without its
    /// committed offset advancing while it had readings waiting (a partition with nothing to read is not waiting). Sampled
    /// every 100 ms; commits come at the meters' checkpoints, so a partition that keeps flowing shows about one interval.
    /// </summary>
    private sealed class CommitGaps(IReadOnlyList<int> partitions)
    {
        private volatile bool _killed;

        public void Killed() => _killed = true;

        public async Task<TimeSpan> MeasureAsync(GroupOffsets offsets, CancellationToken stop)
        {
            var clock = Stopwatch.StartNew();
            var last = await Task.Run(offsets.Committed, CancellationToken.None);
            var progress = partitions.ToDictionary(p => p, _ => TimeSpan.Zero);
            var longest = TimeSpan.Zero;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(100, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var (committed, ends) = await Task.Run(() => (offsets.Committed(), offsets.Ends()), CancellationToken.None);
                var now = clock.Elapsed;
                foreach (var p in partitions)
                {
                    // Only gaps that reach past the kill count: before it both nodes ran.
                    if (_killed) longest = TimeSpan.FromTicks(Math.Max(longest.Ticks, (now - progress[p]).Ticks));
                    if (committed[p] > last[p] || committed[p] >= ends[p]) progress[p] = now;
                }
                last = committed;
            }
            return longest;
        }
    }

    /// <summary>
    /// Issue 15 goal 1: <paramref name="meters"/> meters every 10 s of wall time; every 30 s the readings processed, the lag,
    /// memory, PostgreSQL journal + snapshot bytes per meter, the journal writes waiting for room, restarts and replays.
    /// With <paramref name="tickSeconds"/> under 10, event time runs faster than the wall clock: it starts that much in the
    /// past and reaches now at the end, so storage over hours of a meter's life is seen in minutes (a meter's journal
    /// grows by its checkpoints, one a tick, not by the wall clock).
    /// </summary>
    private static async Task<int> SoakAsync(int meters, int minutes, int tickSeconds, TimeSpan session)
    {
        if (tickSeconds is < 1 or > 10) throw new ArgumentOutOfRangeException(nameof(tickSeconds), tickSeconds, "--tick: 1 to 10 s");
        var ticks = minutes * 60 / tickSeconds;
        var compressed = tickSeconds < 10;
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var database = await BenchDatabase.CreateAsync();
        using var offsets = new GroupOffsets(broker.BootstrapServers, TelemetryConsumer.GroupId);
        using var producer = new BenchProducer(broker.BootstrapServers);
        Console.WriteLine($"soak: {meters:N0} meters every {tickSeconds} s ({meters / tickSeconds:N0} readings/s) for {minutes} min" +
                          (compressed ? $", {ticks} ticks of 10 s = {TimeSpan.FromSeconds(10.0 * ticks).TotalHours:0.0} h of event time" : "") + $", database {database.Name}");
        var node = await BenchNode.StartAsync(NodeArgs(database, broker, FreePort.Next(), seedPort: null, session));
        var ids = Enumerable.Range(0, meters).Select(BenchReadings.MeterId).ToList();
        await node.Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(ids.Select((id, i) => (id, BenchReadings.RegionOf(i))));
        var random = new Random(7);
        using var counters = new PipelineCounters();
        var clock = Stopwatch.StartNew();
        var nextReport = TimeSpan.FromSeconds(30);
        var lastCommitted = 0L;
        long maxLag = 0, sent = 0;
        var drains = new Drains();
        var reportedDrains = 0;
        var now = DateTimeOffset.UtcNow;
        var firstTick = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero) - (compressed ? TimeSpan.FromSeconds(10.0 * ticks) : TimeSpan.Zero);
        for (var tick = 0; clock.Elapsed < TimeSpan.FromMinutes(minutes); tick++)
        {
            var at = compressed ? firstTick + TimeSpan.FromSeconds(10.0 * tick) : DateTimeOffset.UtcNow;
            var tickStarted = clock.Elapsed;
            for (var m = 0; m < ids.Count; m++)
                producer.Produce(BenchReadings.Create(ids[m], m, new DateTimeOffset(at.Ticks - at.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero), random));
            producer.Flush();
            sent += ids.Count;
            var lag = offsets.Lag();
            maxLag = Math.Max(maxLag, lag);
            // The lag in time: a tick arrives as one burst (as the simulator's does with no rate cap), so the lag in
            // readings right after it is the tick itself; how long the burst takes to be committed says whether the
            // processor keeps up, against the goal's two checkpoint intervals.
            var tickEnds = offsets.Ends();
            var drained = await offsets.DrainedAsync(tickEnds, tickStarted + TimeSpan.FromSeconds(tickSeconds) - clock.Elapsed);
            var drain = drained ? clock.Elapsed - tickStarted : (TimeSpan?)null;
            drains.Add(drain);
            if (clock.Elapsed >= nextReport)
            {
                var committed = offsets.Committed().Sum();
                var (heap, rss) = Memory(collect: false);
                var (pgBytes, journalRows) = await database.RelationSizePerMeterAsync(meters);
                Console.WriteLine($"{clock.Elapsed.TotalMinutes,5:0.0} min  sent {sent,12:N0}  processed {(committed - lastCommitted) / 30.0,8:N0}/s  lag {lag,9:N0}  " +
                                  $"tick committed in {Drains.Describe(drains.Since(reportedDrains)),-12}  " +
                                  $"heap {heap / 1048576.0,6:N0} MiB  rss {rss / 1048576.0,6:N0} MiB  pg {pgBytes,7:N0} B/meter ({journalRows,5:0.0} journal rows)  " +
                                  $"held writes {counters.HeldWrites,6:N0}  consumer restarts {counters.Restarts}  partition replays {counters.Replays}");
                lastCommitted = committed;
                reportedDrains = drains.Count;
                nextReport += TimeSpan.FromSeconds(30);
            }
            var wait = tickStarted + TimeSpan.FromSeconds(tickSeconds) - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
        }
        await offsets.WaitAsync(o => o.CaughtUp, CatchUp);
        var storage = await database.StoragePerMeterAsync(meters);
        Console.WriteLine(storage);
        await node.DisposeAsync();
        Console.WriteLine($"soak max lag: {maxLag}");
        Console.WriteLine($"soak ticks committed within their tick: {drains.Within} of {drains.Count}");
        Console.WriteLine($"soak tick committed in s, median / p99 / max: {drains.Summary}");
        Console.WriteLine($"soak consumer restarts: {counters.Restarts}");
        Console.WriteLine($"soak partition replays: {counters.Replays}");
        Console.WriteLine(storage.Figure);
        return 0;
    }

    private static string[] NodeArgs(BenchDatabase database, EmbeddedKafkaBroker broker, int port, int? seedPort, TimeSpan session) =>
        BenchNode.Args(database, broker, ClusterRoles.Processor, port,
        [
            .. seedPort is { } seed ? new[] { $"--SmartGrid:Cluster:SeedNodes:0=akka.tcp://smartgrid@127.0.0.1:{seed}" } : [],
            "--SmartGrid:Pipeline:CheckpointInterval=00:00:01",
            $"--SmartGrid:Pipeline:ConsumerSessionTimeout={session:c}",
            $"--SmartGrid:Http:ManagementPort={FreePort.Next()}",
            // Default log levels: StartNodeAsync waits for the consumer's "assigned" line, which Akka logs at Info.
        ]);

    private static async Task<NodeProcess> StartNodeAsync(BenchDatabase database, EmbeddedKafkaBroker broker, int port, int? seedPort, TimeSpan session, string log)
    {
        var node = NodeProcess.Start(NodeArgs(database, broker, port, seedPort, session), log);
        // Up beside the other processor, if any, with whatever partitions the cluster gives it.
        await node.WaitForLogAsync(NodeProcess.ReadingPartitions(seedPort is null ? 1 : 2), NodeReady);
        return node;
    }

    /// <summary>Ticks of every meter, 10 s of event time apart, paced so the broker never holds more than it keeps.</summary>
    private static async Task<long> ProduceAsync(BenchProducer producer, GroupOffsets offsets, List<string> ids, DateTimeOffset start,
        int fromTick, int ticks, Action<long>? progress)
    {
        await Task.Yield();
        var random = new Random(fromTick);
        long sent = 0;
        for (var t = fromTick; t < fromTick + ticks; t++)
            for (var m = 0; m < ids.Count; m++)
            {
                producer.Produce(BenchReadings.Create(ids[m], m, start + TimeSpan.FromSeconds(10 * t), random));
                if (++sent % 20_000 != 0) continue;
                producer.Flush();
                progress?.Invoke(sent);
                while (offsets.MaxLag() > MaxLagPerPartition) await Task.Delay(100);
            }
        producer.Flush();
        progress?.Invoke(sent);
        return sent;
    }

    private static (long Heap, long Rss) Memory(bool collect = true)
    {
        if (collect)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        using var self = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: false), self.WorkingSet64);
    }

    /// <summary>
    /// What the bench process spent on a phase: CPU (all threads, the embedded broker's included) and the garbage
    /// collector's share, so a rate can be told apart from a lack of CPU, or from a collector that stops the node.
    /// </summary>
    private sealed record ProcessWork(TimeSpan Cpu0, TimeSpan Wall, TimeSpan GcPause, long Allocated, int Gen0, int Gen1, int Gen2)
    {
        public static TimeSpan Cpu()
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }

        public static ProcessWork Now() => new(Cpu(), TimeSpan.FromTicks(Stopwatch.GetTimestamp() * TimeSpan.TicksPerSecond / Stopwatch.Frequency),
            GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

        public string Since(ProcessWork before, long readings)
        {
            var cpu = Cpu0 - before.Cpu0;
            var wall = Wall - before.Wall;
            var pause = GcPause - before.GcPause;
            return $"process CPU {cpu.TotalSeconds:0.0} s in {wall.TotalSeconds:0.0} s ({cpu / wall:0.00} cores) = {cpu.TotalMilliseconds * 1000 / Math.Max(1, readings):0} µs per reading; " +
                   $"allocated {(Allocated - before.Allocated) / Math.Max(1, readings):N0} B per reading; GC paused {pause.TotalSeconds:0.0} s ({pause / wall:P1} of wall time), collections gen0 {Gen0 - before.Gen0}, gen1 {Gen1 - before.Gen1}, gen2 {Gen2 - before.Gen2}; " +
                   $"{BenchMachine.Gc} GC, {GCSettings.LatencyMode}, " +
                   $"adaptation mode (DATAS) {AppContext.GetData("System.GC.DynamicAdaptationMode") ?? Environment.GetEnvironmentVariable("DOTNET_GCDynamicAdaptationMode") ?? "default"}";
        }
    }

    /// <summary>
    /// Every 30 s of the in-process run: readings produced and committed, the rate over the last 30 s, lag, RSS and
    /// load, so a fleet too large to finish in the time at hand still says how fast it went and where it got to.
    /// </summary>
    private sealed class Progress : IDisposable
    {
        private static readonly TimeSpan Every = TimeSpan.FromSeconds(30);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _reporting;
        private long _produced;

        public Progress(GroupOffsets offsets, Stopwatch clock) => _reporting = ReportAsync(offsets, clock, _stop.Token);

        public void Produced(long readings) => Interlocked.Exchange(ref _produced, readings);

        private async Task ReportAsync(GroupOffsets offsets, Stopwatch clock, CancellationToken stop)
        {
            var lastCommitted = 0L;
            var last = TimeSpan.Zero;
            var lastCpu = ProcessWork.Cpu();
            try
            {
                while (true)
                {
                    await Task.Delay(Every, stop);
                    // The offsets client blocks on the broker: off the loop that awaits the producer.
                    var (committed, lag) = await Task.Run(() => (offsets.Committed().Sum(), offsets.Lag()), stop);
                    var elapsed = clock.Elapsed;
                    var (_, rss) = Memory(collect: false);
                    var cpu = ProcessWork.Cpu();
                    Console.WriteLine($"{elapsed.TotalSeconds,6:0} s  produced {Interlocked.Read(ref _produced),11:N0}  processed {committed,11:N0}  " +
                                      $"{(committed - lastCommitted) / (elapsed - last).TotalSeconds,8:N0}/s  lag {lag,9:N0}  rss {rss / 1048576.0,7:N0} MiB  " +
                                      $"cpu {(cpu - lastCpu) / (elapsed - last),4:P0} of a core  load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
                    (lastCommitted, last, lastCpu) = (committed, elapsed, cpu);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _reporting.GetAwaiter().GetResult();
            _stop.Dispose();
        }
    }

    /// <summary>
    /// The in-process node's stream restarts, partition replays and journal writes waiting for room, as its Prometheus
    /// instruments count them.
    /// </summary>
    private sealed class PipelineCounters : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _restarts, _replays, _held;

        public PipelineCounters()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument == PipelineMetrics.ConsumerRestarts || instrument == PipelineMetrics.PartitionReplays || instrument == PipelineMetrics.WritesHeld)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
                Interlocked.Add(ref instrument == PipelineMetrics.ConsumerRestarts ? ref _restarts
                    : ref instrument == PipelineMetrics.PartitionReplays ? ref _replays : ref _held, value));
            _listener.Start();
        }

        public long Restarts => Interlocked.Read(ref _restarts);
        public long Replays => Interlocked.Read(ref _replays);
        public long HeldWrites => Interlocked.Read(ref _held);

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>How long each soak tick took from its first reading sent to its last committed; null when not within the tick.</summary>
    private sealed class Drains
    {
        private readonly List<TimeSpan?> _all = [];

        public int Count => _all.Count;

        public int Within => _all.Count(d => d is not null);

        public void Add(TimeSpan? drain) => _all.Add(drain);

        public List<TimeSpan?> Since(int index) => _all.Skip(index).ToList();

        public string Summary => Describe(_all);

        /// <summary>Median / p99 / max in seconds, or the ticks not committed within their period.</summary>
        public static string Describe(List<TimeSpan?> drains)
        {
            var within = drains.Where(d => d is not null).Select(d => d!.Value.TotalSeconds).Order().ToList();
            if (within.Count == 0) return drains.Count == 0 ? "-" : $"none of {drains.Count}";
            var late = drains.Count - within.Count;
            return $"{Percentiles.Of(within, 50):0.0}/{Percentiles.Of(within, 99):0.0}/{within[^1]:0.0} s" + (late > 0 ? $" +{late} late" : "");
        }
    }

    /// <summary>The telemetry group's committed offsets against the log's end, read without joining the group.</summary>
    private sealed class GroupOffsets : IDisposable
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
        private readonly IConsumer<Ignore, Ignore> _consumer;
        private readonly List<TopicPartition> _partitions;

        public GroupOffsets(string bootstrap, string groupId)
        {
            KafkaNative.EnsureLoaded();
            _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = groupId, EnableAutoCommit = false }).Build();
            _partitions = Enumerable.Range(0, Topics.RawReadings.Partitions)
                .Select(p => new TopicPartition(Topics.RawReadings, p)).ToList();
        }

        public long[] Committed() => _consumer.Committed(_partitions, Timeout).Select(c => Math.Max(0, c.Offset.Value)).ToArray();

        public long[] Ends() => _partitions.Select(p => _consumer.QueryWatermarkOffsets(p, Timeout).High.Value).ToArray();

        private long[] Lags() => Ends().Zip(Committed(), (end, committed) => end - committed).ToArray();

        public long Lag() => Lags().Sum();

        public long MaxLag() => Lags().Max();

        public bool CaughtUp => Lag() == 0;

        /// <summary>Whether every partition's commit reaches <paramref name="ends"/> within <paramref name="limit"/>, polled every 50 ms.</summary>
        public async Task<bool> DrainedAsync(long[] ends, TimeSpan limit)
        {
            var until = Stopwatch.StartNew();
            while (true)
            {
                if (Committed().Zip(ends, (committed, end) => committed >= end).All(reached => reached)) return true;
                if (until.Elapsed >= limit) return false;
                await Task.Delay(50);
            }
        }

        public async Task WaitAsync(Func<GroupOffsets, bool> done, TimeSpan timeout)
        {
            var until = Stopwatch.StartNew();
            while (!done(this))
            {
                if (until.Elapsed > timeout) throw new TimeoutException($"not reached within {timeout} (lag {Lag():N0})");
                await Task.Delay(100);
            }
        }

        public void Dispose() => _consumer.Dispose();
    }
}
