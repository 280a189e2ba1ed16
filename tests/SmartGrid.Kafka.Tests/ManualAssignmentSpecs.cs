using Confluent.Kafka;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

/// <summary>
/// A consumer whose partitions the application sets (<see cref="PartitionAssignment"/>): it joins no group, yet
/// starts from the group's commits and commits to it (as a non-member, with no generation, which the broker accepts
/// while nobody is subscribed to the group).
/// </summary>
public sealed class ManualAssignmentSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    private TrackingReader Read(string group, PartitionAssignment assignment) =>
        TrackingReader.Run(KafkaConsumer.CommittablePartitionedSource(StringConsumer(group), assignment), Materializer);

    /// <summary>Waits until the group has committed <paramref name="offset"/> on every partition.</summary>
    private Task CommittedEverywhere(string group, string topic, int partitions, long offset, string who) =>
        Eventually(() => Kafka.Committed(group, topic, partitions).Values.All(c => c == offset), 20,
            () => $"{who} committing offset {offset} everywhere (committed {string.Join(",", Kafka.Committed(group, topic, partitions).Values)})");

    private static IEnumerable<TopicPartition> Partitions(string topic, params int[] partitions) =>
        partitions.Select(p => new TopicPartition(topic, p));

    [Fact]
    public async Task Should_commit_without_joining_the_group_so_the_next_process_resumes_from_the_commits()
    {
        const int partitions = 4, perPartition = 50;
        var topic = Kafka.CreateTopic("manual-restart", partitions);
        var group = KafkaFixture.Unique("manual-restart");
        Kafka.ProduceRound(topic, partitions, perPartition, "a");

        var first = Read(group, PartitionAssignment.All(topic, partitions));
        // Committed by the group id with no member in it: read back through a plain OffsetFetch.
        await CommittedEverywhere(group, topic, partitions, perPartition, "the first reader");
        await Within(first.Control.DrainAndShutdown(first.Done), 15, "the first reader stopping");
        Assert.Equal(partitions * perPartition, first.Seen.Count);

        // The next process (a new consumer) starts every partition where the first one committed: nothing is read twice.
        Kafka.ProduceRound(topic, partitions, perPartition, "b");
        var second = Read(group, PartitionAssignment.All(topic, partitions));
        await Eventually(() => second.Seen.Count >= partitions * perPartition, 20, () => $"the second reader reading round b (read {second.Seen.Count})");
        await CommittedEverywhere(group, topic, partitions, 2 * perPartition, "the second reader");
        await Within(second.Control.DrainAndShutdown(second.Done), 15, "the second reader stopping");
        Assert.Equal(partitions * perPartition, second.Seen.Count);
        Assert.All(second.Seen, s => Assert.StartsWith("b", s.Value));
    }

    [Fact]
    public async Task Should_hand_over_only_the_partitions_the_assignment_moves_while_the_others_keep_flowing()
    {
        const int partitions = 4, perPartition = 50;
        var topic = Kafka.CreateTopic("manual-move", partitions);
        var group = KafkaFixture.Unique("manual-move");
        Kafka.ProduceRound(topic, partitions, perPartition, "a");

        var aAssignment = PartitionAssignment.All(topic, partitions);
        var bAssignment = new PartitionAssignment([]);
        var a = Read(group, aAssignment);
        var b = Read(group, bAssignment);
        await CommittedEverywhere(group, topic, partitions, perPartition, "a");
        Assert.Empty(b.Seen);

        // Partitions 2 and 3 move to b; a keeps 0 and 1 without restarting them.
        aAssignment.Set(Partitions(topic, 0, 1));
        bAssignment.Set(Partitions(topic, 2, 3));
        await Eventually(() => a.Assigned == "0,1" && b.Assigned == "2,3", 20, () => $"the move (a has {a.Assigned}, b has {b.Assigned})");
        Kafka.ProduceRound(topic, partitions, perPartition, "b");
        await CommittedEverywhere(group, topic, partitions, 2 * perPartition, "a and b");
        Assert.All([0, 1], p => Assert.Equal(1, a.Starts[p]));
        // b started at a's commits: it read only round b of its partitions, and a read nothing of them after the move.
        Assert.Equal(2 * perPartition, b.Seen.Count);
        Assert.All(b.Seen, s => Assert.True(s.Partition >= 2 && s.Value.StartsWith('b'), $"b read {s}"));
        Assert.Equal(2 * perPartition, a.Seen.Count(s => s.Partition >= 2));

        // Every record once, in offset order, over both readers.
        foreach (var p in Enumerable.Range(0, partitions))
        {
            var offsets = a.Seen.Concat(b.Seen).Where(s => s.Partition == p).Select(s => s.Offset).ToList();
            Assert.Equal(Enumerable.Range(0, 2 * perPartition).Select(i => (long)i), offsets.Order());
            Assert.Equal(offsets.Count, offsets.Distinct().Count());
        }
        await Within(a.Control.DrainAndShutdown(a.Done), 15, "a stopping");
        await Within(b.Control.DrainAndShutdown(b.Done), 15, "b stopping");
    }
}
