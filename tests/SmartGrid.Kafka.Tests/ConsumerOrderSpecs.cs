using System.Collections.Concurrent;
using Akka.Streams.Dsl;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class ConsumerOrderSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_emit_every_partition_in_offset_order()
    {
        const int partitions = 3, perPartition = 1_000;
        var topic = Kafka.CreateTopic("order", partitions);
        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"{p}:{i}", (int?)p))));

        var seen = new ConcurrentDictionary<int, ConcurrentQueue<(long Offset, string Value)>>();
        var group = KafkaFixture.Unique("order");
        var (control, done) = KafkaConsumer.CommittablePartitionedSource(StringConsumer(group), topic)
            .MergePartitions(partitions, (tp, messages) => messages.Select(m =>
            {
                seen.GetOrAdd(tp.Partition.Value, _ => new()).Enqueue((m.Record.Offset.Value, m.Value));
                return m.CommittableOffset;
            }))
            .Take(partitions * perPartition)
            .ToMaterialized(Committer.Sink(), Keep.Both)
            .Run(Materializer);

        await Within(done, 25, "consuming");
        await control.Shutdown();

        Assert.Equal(partitions, seen.Count);
        foreach (var (partition, records) in seen)
        {
            var list = records.ToList();
            Assert.Equal(perPartition, list.Count);
            Assert.Equal(Enumerable.Range(0, perPartition).Select(i => (long)i), list.Select(r => r.Offset));
            Assert.Equal(Enumerable.Range(0, perPartition).Select(i => $"{partition}:{i}"), list.Select(r => r.Value));
        }
        // Every offset was committed (offset + 1 of the last record of each partition).
        Assert.All(Kafka.Committed(group, topic, partitions).Values, c => Assert.Equal(perPartition, c));
    }
}
