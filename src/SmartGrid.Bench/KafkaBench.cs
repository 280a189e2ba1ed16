using System.Diagnostics;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using SmartGrid.Kafka;

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

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args);
        var messages = options.Int("messages", 1_000_000);
        var partitions = options.Int("partitions", 6);
        var rounds = options.Int("rounds", 3);

        using var broker = EmbeddedKafkaBroker.Start([(Topic, partitions)]);
        Console.WriteLine($"embedded broker {broker.BootstrapServers}, librdkafka {Library.VersionString} from {KafkaNative.LibraryPath ?? "default"}");
        Console.WriteLine($"cores {Environment.ProcessorCount}, {messages:N0} messages of ~{Reading(123_457).Length} bytes, {partitions} partitions");

        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        using var system = ActorSystem.Create("bench", config);
        var materializer = system.Materializer();

        var produced = await ProduceAsync(broker.BootstrapServers, messages, materializer);
        Console.WriteLine($"produce (KafkaProducer.PlainSink, zstd): {produced:N0} msg/s");

        var expected = Retained(broker.BootstrapServers, partitions);
        var total = expected.Values.Sum(w => w.High - w.Low);
        if (total < messages)
            Console.WriteLine($"note: the mock retained {total:N0} of {messages:N0} messages (5 MiB per partition limit)");

        // The machine is shared and noisy: alternate the contenders over several rounds and compare medians.
        var settings = ConsumerSettings.ForStrings(broker.BootstrapServers, "bench");
        var raws = new List<double>();
        var ours = new List<double>();
        var merged = new List<double>();
        var single = new List<double>();
        var ratios = (PerPartition: new List<double>(), Merged: new List<double>(), Single: new List<double>());
        // Warm-up: JIT-compile every contender on part of the data so no measured round pays for tiered compilation.
        var warmUp = Math.Min(total, 200_000);
        RawLoop(settings.WithGroupId("warmup-raw"), warmUp);
        await PerPartitionAsync(settings.WithGroupId("warmup-stages"), warmUp, materializer);
        await MergedAsync(settings.WithGroupId("warmup-merged"), warmUp, partitions, materializer, viaSubSources: true);
        await MergedAsync(settings.WithGroupId("warmup-single"), warmUp, partitions, materializer, viaSubSources: false);
        Console.WriteLine($"warmed up on {warmUp:N0} messages per contender");

        for (var round = 1; round <= rounds; round++)
        {
            var cpu = Cpu();
            var raw = RawLoop(settings.WithGroupId($"bench-raw-{round}"), total);
            raws.Add(raw);
            Console.WriteLine($"round {round}: raw Confluent consume loop                         {raw,10:N0} msg/s  {PerMessage(ref cpu)}");

            var (perPartition, metrics) = await PerPartitionAsync(settings.WithGroupId($"bench-stages-{round}"), total, materializer);
            ours.Add(perPartition);
            ratios.PerPartition.Add(perPartition / raw);
            Console.WriteLine($"round {round}: CommittablePartitionedSource + Committer           {perPartition,10:N0} msg/s = {perPartition / raw:0.00}x  {PerMessage(ref cpu)}");
            Print(metrics);

            var (mergedRate, mergedMetrics) = await MergedAsync(settings.WithGroupId($"bench-merged-{round}"), total, partitions, materializer, viaSubSources: true);
            merged.Add(mergedRate);
            ratios.Merged.Add(mergedRate / raw);
            Console.WriteLine($"round {round}: same, merged (MergePartitions) into one Committer  {mergedRate,10:N0} msg/s = {mergedRate / raw:0.00}x  {PerMessage(ref cpu)}");
            Print(mergedMetrics);

            var (singleRate, singleMetrics) = await MergedAsync(settings.WithGroupId($"bench-single-{round}"), total, partitions, materializer, viaSubSources: false);
            single.Add(singleRate);
            ratios.Single.Add(singleRate / raw);
            Console.WriteLine($"round {round}: CommittableSource (merged stage) + Committer       {singleRate,10:N0} msg/s = {singleRate / raw:0.00}x  {PerMessage(ref cpu)}");
            Print(singleMetrics);
        }

        // Process CPU (all threads, the in-process broker included) per message: insensitive to other load on the machine.
        static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;
        string PerMessage(ref TimeSpan since)
        {
            var now = Cpu();
            var perMessage = (now - since).TotalMicroseconds / total;
            since = now;
            return $"(CPU {perMessage:0.00} us/msg)";
        }

        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        Console.WriteLine();
        Console.WriteLine($"median raw Confluent consume loop:                          {Median(raws),10:N0} msg/s");
        Console.WriteLine($"median CommittablePartitionedSource + Committer (per-partition streams): {Median(ours),10:N0} msg/s");
        Console.WriteLine($"median CommittablePartitionedSource merged into one Committer:          {Median(merged),10:N0} msg/s");
        Console.WriteLine($"median CommittableSource + Committer:                                   {Median(single),10:N0} msg/s");
        Console.WriteLine($"median of per-round ratios ours/raw (goal >= 0.80x): {Median(ratios.PerPartition):0.00}x partitioned (per-partition streams), " +
                          $"{Median(ratios.Merged):0.00}x partitioned merged, {Median(ratios.Single):0.00}x CommittableSource");

        await system.Terminate();
        return 0;
    }

    private static async Task<double> ProduceAsync(string bootstrap, int messages, IMaterializer materializer)
    {
        var settings = ProducerSettings.ForStrings(bootstrap) with { LingerMs = 20 };
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
    private static double RawLoop(ConsumerSettings<string, string> settings, long total)
    {
        using var consumer = new ConsumerBuilder<string, string>(settings.ToConsumerConfig())
            .SetKeyDeserializer(settings.KeyDeserializer)
            .SetValueDeserializer(settings.ValueDeserializer)
            .Build();
        consumer.Subscribe(Topic);
        long count = 0;
        var watch = new Stopwatch();
        long bytes = 0;
        while (count < total)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null)
                continue;
            if (count++ == 0)
                watch.Start();
            bytes += result.Message.Value.Length;
        }
        watch.Stop();
        consumer.Close();
        GC.KeepAlive(bytes);
        return (total - 1) / watch.Elapsed.TotalSeconds;
    }

    private static void Print(ConsumerMetrics m) =>
        Console.WriteLine($"    fetched {m.MessagesFetched:N0}, emitted {m.MessagesEmitted:N0}, pauses {m.Pauses}, peak buffered {m.PeakBufferedMessages:N0}, commits {m.Commits:N0}");

    /// <summary>
    /// The shape the pipeline uses: every partition sub-source runs as its own stream (own actor) ending in its
    /// own Committer. Timed from the first message until all of them have been processed and committed.
    /// </summary>
    private static async Task<(double Rate, ConsumerMetrics Metrics)> PerPartitionAsync(
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
        return ((total - 1) / watch.Elapsed.TotalSeconds, control.Metrics);
    }

    /// <summary>One stream: sub-sources merged with MergePartitions (Akka's MergeMany), or the merged CommittableSource.</summary>
    private static async Task<(double Rate, ConsumerMetrics Metrics)> MergedAsync(
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
        return ((total - 1) / watch.Elapsed.TotalSeconds, metrics);
    }
}
