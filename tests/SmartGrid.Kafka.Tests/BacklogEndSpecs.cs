using System.Collections.Concurrent;
using Akka.Streams.Dsl;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

/// <summary>
/// Every record of a partition assignment carries the partition's high watermark as it was when that assignment fetched
/// its first record: where the backlog it started behind ends. Records produced later do not move it; a replay's new
/// assignment reads it again.
/// </summary>
public sealed class BacklogEndSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_carry_the_high_watermark_of_the_assignments_first_fetch_on_each_of_its_records()
    {
        const int backlog = 100, later = 20;
        var topic = Kafka.CreateTopic("backlog-end", 1);
        Kafka.Produce(topic, Enumerable.Range(0, backlog).Select(i => ("k", $"{i}", (int?)0)));

        var runs = 0;
        var seen = new ConcurrentQueue<(int Run, long Offset, long? BacklogEnd)>();
        var (control, done) = KafkaConsumer.CommittablePartitionedSource(StringConsumer(KafkaFixture.Unique("backlog-end")), topic)
            .MergePartitions(4, (_, messages) =>
            {
                var run = Interlocked.Increment(ref runs);
                return messages.Select(m =>
                {
                    seen.Enqueue((run, m.Record.Offset.Value, m.BacklogEnd));
                    // The first run reaches its backlog's end, more records arrive, and it asks to read the partition again.
                    if (run == 1 && m.Record.Offset.Value == backlog - 1)
                    {
                        Kafka.Produce(topic, Enumerable.Range(backlog, later).Select(i => ("k", $"{i}", (int?)0)));
                        m.CommittableOffset.ReplayPartition();
                    }
                    return m.CommittableOffset;
                });
            })
            .ToMaterialized(Sink.Ignore<CommittableOffset>(), Keep.Both)
            .Run(Materializer);

        await Eventually(() => seen.Any(s => s is { Run: 2, Offset: backlog + later - 1 }), 30,
            () => $"the replay read to the end (runs {Volatile.Read(ref runs)}, {seen.Count} records seen)");
        await control.Shutdown();
        await done;

        Assert.All(seen.Where(s => s.Run == 1), s => Assert.Equal(backlog, s.BacklogEnd));
        var replayed = seen.Where(s => s.Run == 2).ToList();
        Assert.Equal(Enumerable.Range(0, backlog + later).Select(i => (long)i), replayed.Select(s => s.Offset));
        Assert.All(replayed, s => Assert.Equal(backlog + later, s.BacklogEnd));
    }
}
