using System.Collections.Concurrent;
using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class RebalanceSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    private sealed class Member
    {
        public readonly ConcurrentDictionary<int, byte> Active = new();
        /// <summary>How often each partition's sub-stream was started: once, if no rebalance took it away meanwhile.</summary>
        public readonly ConcurrentDictionary<int, int> Starts = new();
        public readonly ConcurrentQueue<(int Partition, long Offset)> Seen = new();
        public IControl Control = null!;
        public Task<Done> Done = null!;
        public string Assigned => string.Join(",", Active.Keys.Order());
    }

    private Member Join(string group, string topic)
    {
        var member = new Member();
        var (control, done) = KafkaConsumer.CommittablePartitionedSource(StringConsumer(group).WithProperty("partition.assignment.strategy", "cooperative-sticky"), topic)
            .MergePartitions(16, (tp, messages) =>
            {
                var partition = tp.Partition.Value;
                member.Active[partition] = 0;
                member.Starts.AddOrUpdate(partition, 1, (_, n) => n + 1);
                return messages
                    .Select(m =>
                    {
                        member.Seen.Enqueue((partition, m.Record.Offset.Value));
                        return m.CommittableOffset;
                    })
                    .WatchTermination((mat, terminated) =>
                    {
                        terminated.ContinueWith(t => member.Active.TryRemove(partition, out var _));
                        return mat;
                    });
            })
            .ToMaterialized(Committer.Sink(new CommitterSettings { MaxInterval = TimeSpan.FromMilliseconds(50) }), Keep.Both)
            .Run(Materializer);
        member.Control = control;
        member.Done = done;
        return member;
    }

    [Fact]
    public async Task Should_split_partitions_between_two_members_and_hand_over_only_those_that_move()
    {
        const int partitions = 4, perPartition = 50;
        var topic = Kafka.CreateTopic("rebalance", partitions);
        var group = KafkaFixture.Unique("rebalance");
        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"a{i}", (int?)p))));

        var a = Join(group, topic);
        await Eventually(() => a.Active.Count == partitions, 15, "first member owning every partition");

        // On a busy machine the mock's group protocol can need several 5 s rounds before a
        // second member is in; the bounds are generous, the test ends as soon as it holds.
        var b = Join(group, topic);
        await Eventually(() => a.Active.Count == partitions / 2 && b.Active.Count == partitions / 2, 60,
            "the two members splitting the partitions");
        Assert.Empty(a.Active.Keys.Intersect(b.Active.Keys));
        // Cooperative-sticky: A gave up only what B took; the partitions it kept never stopped.
        var kept = a.Active.Keys.ToList();
        Assert.All(kept, p => Assert.Equal(1, a.Starts[p]));

        // Records produced now go to whoever owns their partition.
        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"b{i}", (int?)p))));
        var total = partitions * perPartition * 2;
        await Eventually(() => a.Seen.Select(s => s).Concat(b.Seen).Distinct().Count() == total, 15, "both members consuming");
        var bPartitions = b.Active.Keys.ToList();

        // B leaves: A takes its partitions over and carries on from B's commits.
        await Within(b.Control.DrainAndShutdown(b.Done), 15, "second member leaving");
        await Eventually(() => a.Active.Count == partitions, 60, $"first member taking over (has {a.Assigned})");
        Assert.All(kept, p => Assert.Equal(1, a.Starts[p]));

        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"c{i}", (int?)p))));
        total += partitions * perPartition;
        await Eventually(() => a.Seen.Concat(b.Seen).Distinct().Count() == total, 15, "every record consumed");

        // At-least-once: no gaps per partition, and A re-read at most what B had not committed yet.
        foreach (var p in Enumerable.Range(0, partitions))
        {
            var offsets = a.Seen.Concat(b.Seen).Where(s => s.Partition == p).Select(s => s.Offset).Distinct().Order().ToList();
            Assert.Equal(Enumerable.Range(0, perPartition * 3).Select(i => (long)i), offsets);
        }
        Assert.NotEmpty(bPartitions);
        await Within(a.Control.DrainAndShutdown(a.Done), 15, "first member leaving");
        Assert.All(Kafka.Committed(group, topic, partitions).Values, c => Assert.Equal(perPartition * 3, c));
    }
}
