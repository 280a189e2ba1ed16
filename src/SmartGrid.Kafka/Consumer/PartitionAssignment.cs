using System.Collections.Immutable;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// The partitions a consumer reads when the application, not a Kafka consumer group, decides who reads what: the
/// consumer never joins its group (<c>assign</c>, not <c>subscribe</c>), takes each partition from the group's committed
/// offset, and commits to the group with no generation, which a broker accepts for a group with no subscribed member.
/// No session or rebalance stands between a decision and the reading: <see cref="Set"/> takes effect at the consumer's
/// next poll round. A partition dropped from the set is unassigned at once: its sub-source completes, and commits of
/// what it emitted are ignored from then on (its next reader starts from the last commit, as after a revocation).
/// Thread-safe; one instance may feed the consumer of each pass of a restarting stream.
/// </summary>
public sealed class PartitionAssignment
{
    private ImmutableHashSet<TopicPartition> _partitions;
    private long _version;

    public PartitionAssignment(IEnumerable<TopicPartition> partitions) => _partitions = [.. partitions];

    /// <summary>Every partition of <paramref name="topic"/>: a lone consumer that reads the whole topic.</summary>
    public static PartitionAssignment All(string topic, int partitions) =>
        new(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)));

    public IReadOnlySet<TopicPartition> Partitions => Volatile.Read(ref _partitions);

    /// <summary>Raised after every change, on the caller's thread: the consumers wake up to apply it.</summary>
    internal event Action? Changed;

    /// <summary>Counts the changes, so a consumer applies each state once.</summary>
    internal long Version => Interlocked.Read(ref _version);

    public void Set(IEnumerable<TopicPartition> partitions)
    {
        var next = partitions.ToImmutableHashSet();
        if (next.SetEquals(Volatile.Read(ref _partitions)))
            return;
        Volatile.Write(ref _partitions, next);
        Interlocked.Increment(ref _version);
        Changed?.Invoke();
    }
}
