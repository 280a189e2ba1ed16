using System.Collections.Concurrent;
using Akka.Streams.Dsl;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class BackPressureSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_bound_buffered_messages_while_downstream_is_slow_and_then_catch_up()
    {
        const int partitions = 2, perPartition = 3_000, maxBuffer = 100;
        var topic = Kafka.CreateTopic("slow", partitions);
        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"{i}", (int?)p))));

        var settings = StringConsumer(KafkaFixture.Unique("slow")) with { MaxBufferPerPartition = maxBuffer, PollBatchSize = 50 };
        var slow = new TaskCompletionSource();
        var seen = new ConcurrentDictionary<int, ConcurrentQueue<long>>();
        long processed = 0;
        var (control, done) = KafkaConsumer.CommittableSource(settings, topic)
            .SelectAsync(1, async m =>
            {
                if (Interlocked.Increment(ref processed) <= 200)
                    await Task.Delay(10); // a slow downstream for the first 200 messages (~2 s)
                else
                    slow.TrySetResult();
                seen.GetOrAdd(m.Record.Partition.Value, _ => new()).Enqueue(m.Record.Offset.Value);
                return m.CommittableOffset;
            })
            .Take(partitions * perPartition)
            .ToMaterialized(Committer.Sink(), Keep.Both)
            .Run(Materializer);

        var samples = new List<ConsumerMetrics>();
        while (!slow.Task.IsCompleted && !done.IsCompleted)
        {
            samples.Add(control.Metrics);
            await Task.Delay(20);
        }
        var catchUp = System.Diagnostics.Stopwatch.StartNew();
        await Within(done, 20, "catching up");
        Output?.WriteLine($"caught up in {catchUp.ElapsedMilliseconds} ms: {control.Metrics}");
        await control.Shutdown();

        // Fetched-but-not-emitted never exceeded one full buffer per partition (+ what a sub-source holds in hand),
        // and the consumer did not run ahead of the slow downstream.
        var bound = partitions * (maxBuffer + 64);
        Assert.True(samples.Count > 20, $"only {samples.Count} samples");
        Assert.All(samples, s => Assert.True(s.BufferedMessages <= bound, $"{s.BufferedMessages} buffered > {bound}"));
        Assert.True(control.Metrics.PeakBufferedMessages <= bound, $"peak {control.Metrics.PeakBufferedMessages} > {bound}");
        var lastSlow = samples[^1];
        Assert.True(lastSlow.MessagesFetched <= lastSlow.MessagesEmitted + bound,
            $"fetched {lastSlow.MessagesFetched} while emitting {lastSlow.MessagesEmitted}");

        // Pausing and resuming lost nothing and kept the order.
        foreach (var (_, offsets) in seen)
            Assert.Equal(Enumerable.Range(0, perPartition).Select(i => (long)i), offsets);
    }
}
