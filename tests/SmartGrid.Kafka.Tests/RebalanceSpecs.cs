using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class RebalanceSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    /// <param name="tune">Adjusts the member's consumer settings.</param>
    /// <param name="gate">Every message waits for it before it counts as seen.</param>
    private TrackingReader Join(string group, string topic,
        Func<ConsumerSettings<string, string>, ConsumerSettings<string, string>>? tune = null, Task? gate = null)
    {
        var settings = StringConsumer(group).WithProperty("partition.assignment.strategy", "cooperative-sticky");
        return TrackingReader.Run(KafkaConsumer.CommittablePartitionedSource(tune?.Invoke(settings) ?? settings, topic), Materializer, gate);
    }

    [Fact]
    public async Task Should_split_partitions_between_two_members_and_hand_over_only_those_that_move()
    {
        const int partitions = 4, perPartition = 50;
        var topic = Kafka.CreateTopic("rebalance", partitions);
        var group = KafkaFixture.Unique("rebalance");
        Kafka.ProduceRound(topic, partitions, perPartition, "a");

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
        Kafka.ProduceRound(topic, partitions, perPartition, "b");
        var total = partitions * perPartition * 2;
        await Eventually(() => a.Seen.Concat(b.Seen).Distinct().Count() == total, 15, "both members consuming");
        var bPartitions = b.Active.Keys.ToList();

        // B leaves: A takes its partitions over and carries on from B's commits.
        await Within(b.Control.DrainAndShutdown(b.Done), 15, "second member leaving");
        await Eventually(() => a.Active.Count == partitions, 60, $"first member taking over (has {a.Assigned})");
        Assert.All(kept, p => Assert.Equal(1, a.Starts[p]));

        Kafka.ProduceRound(topic, partitions, perPartition, "c");
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

    [Fact]
    public async Task Should_consume_every_partition_after_partitions_paused_by_back_pressure_move_away_and_come_back()
    {
        const int partitions = 4, perPartition = 300;
        var topic = Kafka.CreateTopic("paused-rebalance", partitions);
        var group = KafkaFixture.Unique("paused-rebalance");
        Kafka.ProduceRound(topic, partitions, perPartition, "a");

        // A's downstream does not move, so each of its partition buffers fills and the partition is paused.
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = Join(group, topic, s => s with { MaxBufferPerPartition = 20, PollBatchSize = 10 }, stuck.Task);
        await Eventually(() => a.Control.Metrics.PausedPartitions == partitions, 30,
            () => $"every partition of the first member paused by back-pressure ({a.Control.Metrics})");

        // B takes half of them, paused as they were at A, and reads them to the end. (A's own sub-streams of
        // the revoked partitions end only once their stuck element is through: count A's assignment instead.)
        var b = Join(group, topic);
        await Eventually(() => a.Control.Metrics.AssignedPartitions == partitions / 2 && b.Active.Count == partitions / 2, 60,
            "the two members splitting the partitions");
        var moved = b.Active.Keys.Order().ToList();
        await Eventually(() => moved.All(p => b.Seen.Where(s => s.Partition == p).Select(s => s.Offset).Distinct().Count() == perPartition), 30,
            "the second member reading the partitions it took");

        // B leaves: the partitions come back to A, which must fetch them although it had paused them before.
        await Within(b.Control.DrainAndShutdown(b.Done), 15, "second member leaving");
        await Eventually(() => a.Control.Metrics.AssignedPartitions == partitions, 60, "first member taking the partitions back");
        stuck.SetResult();
        Kafka.ProduceRound(topic, partitions, perPartition, "b");

        string Missing() => string.Join(", ", Enumerable.Range(0, partitions).Select(p =>
            $"{p}: {2 * perPartition - a.Seen.Concat(b.Seen).Where(s => s.Partition == p).Select(s => s.Offset).Distinct().Count()}"));
        await Eventually(() => a.Seen.Concat(b.Seen).Distinct().Count() == 2 * partitions * perPartition, 30,
            () => $"every record of every partition consumed (missing per partition: {Missing()})");
        await Within(a.Control.DrainAndShutdown(a.Done), 15, "first member leaving");
        Assert.All(Kafka.Committed(group, topic, partitions).Values, c => Assert.Equal(2 * perPartition, c));
    }
}
