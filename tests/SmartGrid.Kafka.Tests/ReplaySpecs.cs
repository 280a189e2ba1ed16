using System.Collections.Concurrent;
using Akka.Streams.Dsl;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class ReplaySpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_read_a_replayed_partition_again_from_its_commit_while_the_others_flow_on_without_a_rebalance()
    {
        const int partitions = 3, perPartition = 100, committedBeforeReplay = 40, replayAt = 60;
        var topic = Kafka.CreateTopic("replay", partitions);
        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"{p}:{i}", (int?)p))));

        var runs = new ConcurrentDictionary<int, int>();
        var seen = new ConcurrentQueue<(int Partition, int Run, long Offset)>();
        var group = KafkaFixture.Unique("replay");
        var (control, done) = KafkaConsumer.CommittablePartitionedSource(StringConsumer(group), topic)
            .MergePartitions(16, (tp, messages) =>
            {
                var partition = tp.Partition.Value;
                var run = runs.AddOrUpdate(partition, 1, (_, n) => n + 1);
                return messages.SelectAsync(1, async m =>
                {
                    var offset = m.Record.Offset.Value;
                    seen.Enqueue((partition, run, offset));
                    // Partition 0's first run loses what follows its commit at 40, and asks for a replay at 60; the
                    // second request names the same, by then replaced, assignment and must change nothing.
                    if (partition == 0 && run == 1 && offset >= committedBeforeReplay)
                    {
                        if (offset == replayAt)
                        {
                            m.CommittableOffset.ReplayPartition();
                            m.CommittableOffset.ReplayPartition();
                        }
                        return m.CommittableOffset;
                    }
                    await m.CommittableOffset.CommitAsync();
                    return m.CommittableOffset;
                });
            })
            .ToMaterialized(Sink.Ignore<CommittableOffset>(), Keep.Both)
            .Run(Materializer);

        await Eventually(() => Kafka.Committed(group, topic, partitions).Values.All(c => c == perPartition), 30,
            () => $"every partition committed to its end (committed {string.Join(", ", Kafka.Committed(group, topic, partitions))}, runs {string.Join(", ", runs)})");
        await control.Shutdown();
        await done;

        // The replayed partition started over once, from its commit, and read on to its end in order.
        Assert.Equal(2, runs[0]);
        var replayed = seen.Where(s => s is { Partition: 0, Run: 2 }).Select(s => s.Offset).ToList();
        Assert.Equal(Enumerable.Range(committedBeforeReplay, perPartition - committedBeforeReplay).Select(i => (long)i), replayed);
        // The others were never stopped: the consumer did not leave its group, so nothing was rebalanced.
        Assert.Equal(1, runs[1]);
        Assert.Equal(1, runs[2]);
        foreach (var partition in new[] { 1, 2 })
            Assert.Equal(Enumerable.Range(0, perPartition).Select(i => (long)i),
                seen.Where(s => s.Partition == partition).Select(s => s.Offset));
    }
}
