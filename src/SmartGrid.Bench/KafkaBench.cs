using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;

namespace SmartGrid.Bench;

/// <summary>
/// Consume throughput on the embedded broker: produce N keyed ~250-byte readings (zstd) over P partitions,
/// then read them all, each contender with a fresh group and the same consumer configuration:
/// (a) a raw Confluent consume loop; (b) CommittablePartitionedSource with every partition sub-source run as its
/// own stream ending in a Committer (the pipeline's shape); (c) the same sub-sources merged with MergePartitions
/// into one Committer; (d) CommittableSource (one merged stage) into one Committer.
/// Rounds alternate the contenders because the machine is shared; the figures to read are the medians of the
/// per-round ratios and the CPU per message (which other load on the machine disturbs much less).
/// </summary>
internal static class KafkaBench
{
    private const string Topic = "bench_readings";

    internal static readonly Option<int> Messages = BenchOptions.Int("--messages", 1_000_000, "messages per round");
    internal static readonly Option<int> Partitions = BenchOptions.Int("--partitions", 6, "topic partitions");
    internal static readonly Option<int> Rounds = BenchOptions.Int("--rounds", 3, "interleaved rounds per contender");
    internal static readonly Option<int> Batch = BenchOptions.Int("--batch", 2_000, "messages per producer batch");
    internal static readonly Option<KeyValuePair<string, string>[]> ConsumerProperty = new("--consumer-property")
    {
        Description = "key=value set on both contenders' consumers; repeatable",
        CustomParser = result => result.Tokens.Select(token => token.Value.Split('=', 2) is [{ Length: > 0 } key, var value]
            ? KeyValuePair.Create(key, value)
            : Invalid(result, token.Value)).ToArray(),
    };

    private static KeyValuePair<string, string> Invalid(ArgumentResult result, string token)
    {
        result.AddError($"--consumer-property needs key=value, not '{token}'");
        return default;
    }

    internal static async Task<int> RunAsync(ParseResult parse)
    {
        var messages = parse.GetValue(Messages);
        var partitions = parse.GetValue(Partitions);
        var rounds = parse.GetValue(Rounds);
        var batch = parse.GetValue(Batch);

        using var broker = EmbeddedKafkaBroker.Start([(Topic, partitions)]);
        Console.WriteLine($"embedded broker {broker.BootstrapServers}, librdkafka {Library.VersionString} from {KafkaNative.LibraryPath ?? "default"}");
        Console.WriteLine($"cores {Environment.ProcessorCount}, {messages:N0} messages of ~{Reading(123_457).Length} bytes, {partitions} partitions");

        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        using var system = ActorSystem.Create("bench", config);
        var materializer = system.Materializer();

        var produced = await ProduceAsync(broker.BootstrapServers, messages, batch, materializer);
        Console.WriteLine($"produce (KafkaProducer.PlainSink, zstd, batches of up to {batch:N0}): {produced:N0} msg/s");

        var expected = Retained(broker.BootstrapServers, partitions);
        var total = expected.Values.Sum(w => w.High - w.Low);
        if (total < messages)
            Console.WriteLine($"note: the mock retained {total:N0} of {messages:N0} messages (5 MiB per partition limit)");

        // The machine is shared and noisy: alternate the contenders over several rounds and compare per-round ratios.
        // --consumer-property k=v (repeatable) sets a librdkafka property for every contender, e.g. to put back a default.
        var settings = (parse.GetValue(ConsumerProperty) ?? []).Aggregate(ConsumerSettings.ForStrings(broker.BootstrapServers, "bench"),
            (s, p) => s.WithProperty(p.Key, p.Value));
        foreach (var (key, value) in settings.Properties)
            Console.WriteLine($"consumer property {key}={value}");
        var contenders = new (string Name, Func<string, long, Task<Run>> Run)[]
        {
            ("raw Confluent consume loop", (group, n) => Task.FromResult(RawLoop(settings.WithGroupId(group), n))),
            ("CommittablePartitionedSource + Committer (per-partition streams)", (group, n) => PerPartitionAsync(settings.WithGroupId(group), n, materializer)),
            ("same, merged (MergePartitions) into one Committer", (group, n) => MergedAsync(settings.WithGroupId(group), n, partitions, materializer, viaSubSources: true)),
            ("CommittableSource (merged stage) + Committer", (group, n) => MergedAsync(settings.WithGroupId(group), n, partitions, materializer, viaSubSources: false)),
        };
        var results = contenders.Select(_ => new List<Run>()).ToArray();

        // Warm-up: JIT-compile every contender on part of the data so no measured round pays for tiered compilation.
        var warmUp = Math.Min(total, 200_000);
        for (var c = 0; c < contenders.Length; c++)
            await contenders[c].Run($"warmup-{c}", warmUp);
        Console.WriteLine($"warmed up on {warmUp:N0} messages per contender");
        Console.WriteLine("stalls = polls that waited >= 10 ms for librdkafka while a partition wanted data; CPU is the whole process (broker included)");

        for (var round = 1; round <= rounds; round++)
        {
            for (var c = 0; c < contenders.Length; c++)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var run = await contenders[c].Run($"bench-{c}-{round}", total);
                run = run with { CpuPerMessage = (Process.GetCurrentProcess().TotalProcessorTime - cpu) / total };
                results[c].Add(run);
                var raw = results[0][^1];
                var versus = c == 0 ? "" : $" = {run.Rate / raw.Rate:0.00}x, CPU {run.CpuPerMessage / raw.CpuPerMessage:0.00}x";
                Console.WriteLine($"round {round}: {contenders[c].Name,-66} {run.Rate,10:N0} msg/s{versus}  " +
                                  $"CPU {run.CpuPerMessage.TotalMicroseconds:0.00} us/msg, stalls {run.StarvedPolls} ({run.StarvedTime.TotalMilliseconds:N0} ms waiting for librdkafka)");
                if (run.Metrics is { } m)
                    Console.WriteLine($"    fetched {m.MessagesFetched:N0}, emitted {m.MessagesEmitted:N0}, pauses {m.Pauses}, peak buffered {m.PeakBufferedMessages:N0}, " +
                                      $"commits {m.Commits:N0} ({m.CommitTime.TotalMilliseconds:N0} ms), idle on back-pressure {m.IdleTime.TotalMilliseconds:N0} ms");
            }
        }

        static double Median(IEnumerable<double> xs)
        {
            var sorted = xs.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }
        Console.WriteLine();
        Console.WriteLine($"median {contenders[0].Name}: {Median(results[0].Select(r => r.Rate)):N0} msg/s, CPU {Median(results[0].Select(r => r.CpuPerMessage.TotalMicroseconds)):0.00} us/msg");
        for (var c = 1; c < contenders.Length; c++)
        {
            var ratios = results[c].Zip(results[0], (ours, raw) => ours.Rate / raw.Rate).ToList();
            var cpuRatios = results[c].Zip(results[0], (ours, raw) => ours.CpuPerMessage / raw.CpuPerMessage).ToList();
            Console.WriteLine($"median {contenders[c].Name}: {Median(results[c].Select(r => r.Rate)):N0} msg/s; " +
                              $"ratio to raw median {Median(ratios):0.00}x (rounds {string.Join(" ", ratios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))}, lowest {ratios.Min():0.00}x), " +
                              $"CPU {Median(cpuRatios):0.00}x");
        }
        Console.WriteLine($"goal: >= 0.80x of the raw loop in every round for {contenders[1].Name}");

        await system.Terminate();
        return 0;
    }

    /// <summary>One contender's round: msg/s from the first message to the last, and its stalls.</summary>
    private sealed record Run(double Rate, long StarvedPolls, TimeSpan StarvedTime, ConsumerMetrics? Metrics)
    {
        public TimeSpan CpuPerMessage { get; init; }
    }

    /// <summary>
    /// The mock returns one producer batch per partition per fetch, so batch size decides how much a fetch brings: fill
    /// batches up to <paramref name="batch"/> messages whatever the machine's load (a short linger on a loaded machine
    /// made batches of ~150 messages and the consumers fetch-latency bound; a quiet one made them thousands).
    /// </summary>
    private static async Task<double> ProduceAsync(string bootstrap, int messages, int batch, IMaterializer materializer)
    {
        var settings = (ProducerSettings.ForStrings(bootstrap) with { LingerMs = 500, MaxInFlight = 100 * batch })
            .WithProperty("batch.num.messages", batch.ToString(CultureInfo.InvariantCulture));
        var watch = Stopwatch.StartNew();
        await Source.From(Enumerable.Range(0, messages))
            .Select(i => new ProducerRecord<string, string>(Topic, MeterId(i), Reading(i)))
            .RunWith(KafkaProducer.PlainSink(settings), materializer);
        return messages / watch.Elapsed.TotalSeconds;
    }

    private static string MeterId(int i) => $"MTR-{i % 50_000:D8}";

    /// <summary>A JSON-like reading of about 250 bytes with realistic variation.</summary>
    private static string Reading(int i)
    {
        var meter = i % 50_000;
        var round = i / 50_000;
        var rnd = (uint)(i * 2654435761u);
        var sb = new StringBuilder(260);
        sb.Append(CultureInfo.InvariantCulture,
            $"{{\"meter_id\":\"MTR-{meter:D8}\",\"region\":\"region-{meter % 12:D2}\",\"ts\":\"{new DateTime(2025, 6, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(round * 10):yyyy-MM-ddTHH:mm:ssZ}\",");
        sb.Append(CultureInfo.InvariantCulture,
            $"\"seq\":{round},\"kwh\":{(rnd % 100_000) / 10_000.0:0.0000},\"kw\":{(rnd % 7_919) / 1_000.0:0.000},\"voltage\":{220 + (rnd % 200) / 10.0:0.0},");
        sb.Append(CultureInfo.InvariantCulture,
            $"\"current\":{(rnd % 3_001) / 100.0:0.00},\"pf\":{0.80 + (rnd % 20) / 100.0:0.00},\"freq\":{49.9 + (rnd % 20) / 100.0:0.00},\"status\":\"ok\",\"fw\":\"3.2.1\",\"tariff\":\"T{meter % 4}\",\"gateway\":\"gw-{meter % 97:D3}.region-{meter % 12:D2}\",\"quality\":\"measured\"}}");
        return sb.ToString();
    }

    private static Dictionary<int, (long Low, long High)> Retained(string bootstrap, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-watermarks" }).Build();
        return Enumerable.Range(0, partitions).ToDictionary(p => p, p =>
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), TimeSpan.FromSeconds(10));
            return (w.Low.Value, w.High.Value);
        });
    }

    /// <summary>Messages/s from the first message to the last, so the group join is not counted.</summary>
    private static Run RawLoop(ConsumerSettings<string, string> settings, long total)
    {
        using var consumer = new ConsumerBuilder<string, string>(settings.ToConsumerConfig())
            .SetKeyDeserializer(settings.KeyDeserializer)
            .SetValueDeserializer(settings.ValueDeserializer)
            .Build();
        consumer.Subscribe(Topic);
        long count = 0, bytes = 0, stalls = 0, waited = 0;
        var watch = new Stopwatch();
        var stallTicks = Stopwatch.Frequency / 100;
        while (count < total)
        {
            var before = Stopwatch.GetTimestamp();
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (count > 0)
            {
                // Counted like ConsumerHub's starved polls: time this loop waited for librdkafka (calls of 1 ms and more).
                var took = Stopwatch.GetTimestamp() - before;
                if (took >= Stopwatch.Frequency / 1000)
                    waited += took;
                if (took >= stallTicks)
                    stalls++;
            }
            if (result is null)
                continue;
            if (count++ == 0)
                watch.Start();
            bytes += result.Message.Value.Length;
        }
        watch.Stop();
        consumer.Close();
        GC.KeepAlive(bytes);
        return new Run((total - 1) / watch.Elapsed.TotalSeconds, stalls, Stopwatch.GetElapsedTime(0, waited), null);
    }

    /// <summary>
    /// The shape the pipeline uses: every partition sub-source runs as its own stream (own actor) ending in its
    /// own Committer. Timed from the first message until all of them have been processed and committed.
    /// </summary>
    private static async Task<Run> PerPartitionAsync(
        ConsumerSettings<string, string> settings, long total, IMaterializer materializer)
    {
        var watch = new Stopwatch();
        long count = 0;
        var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (control, done) = KafkaConsumer.CommittablePartitionedSource(settings, Topic)
            .SelectAsyncUnordered(64, p => p.Messages
                .Select(m =>
                {
                    var n = Interlocked.Increment(ref count);
                    if (n == 1)
                        lock (watch) watch.Start();
                    if (n == total)
                        allSeen.TrySetResult();
                    return m.CommittableOffset;
                })
                .RunWith(Committer.Sink(), materializer))
            .ToMaterialized(Sink.Ignore<Akka.Done>(), Keep.Both)
            .Run(materializer);
        await allSeen.Task;
        // Drain: stop emitting and let every partition stream commit what it processed (timed), then leave the group.
        await control.Stop();
        await done;
        watch.Stop();
        await control.Shutdown();
        return Measured((total - 1) / watch.Elapsed.TotalSeconds, control.Metrics);
    }

    /// <summary>One stream: sub-sources merged with MergePartitions (Akka's MergeMany), or the merged CommittableSource.</summary>
    private static async Task<Run> MergedAsync(
        ConsumerSettings<string, string> settings, long total, int partitions, IMaterializer materializer, bool viaSubSources)
    {
        var watch = new Stopwatch();
        long count = 0;
        var source = viaSubSources
            ? KafkaConsumer.CommittablePartitionedSource(settings, Topic)
                .MergePartitions(partitions, (_, messages) => messages.Select(m => m.CommittableOffset))
            : KafkaConsumer.CommittableSource(settings, Topic).Select(m => m.CommittableOffset);
        var (control, done) = source
            .Select(offset =>
            {
                if (count++ == 0)
                    watch.Start();
                return offset;
            })
            .Take(total)
            .ToMaterialized(Committer.Sink(), Keep.Both)
            .Run(materializer);
        await done;
        watch.Stop();
        var metrics = control.Metrics;
        await control.Shutdown();
        return Measured((total - 1) / watch.Elapsed.TotalSeconds, metrics);
    }

    private static Run Measured(double rate, ConsumerMetrics metrics) => new(rate, metrics.StarvedPolls, metrics.StarvedTime, metrics);
}
