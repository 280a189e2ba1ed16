using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>A consumed record together with the offset to commit once it has been processed.</summary>
public sealed record CommittableMessage<TKey, TValue>(ConsumeResult<TKey, TValue> Record, CommittableOffset CommittableOffset)
{
    public TKey Key => Record.Message.Key;
    public TValue Value => Record.Message.Value;

    /// <summary>
    /// The partition's high watermark (the offset after its last record) when the assignment that read this record fetched
    /// its first one, the same on every record of that assignment; null when librdkafka did not know it. A reader that
    /// started behind knows from it where the backlog it started behind ends, without waiting for the partition to go quiet.
    /// </summary>
    public long? BacklogEnd { get; init; }
}

/// <summary>Commits offsets through the consumer that fetched them.</summary>
internal interface IOffsetCommitter
{
    Task CommitAsync(IReadOnlyCollection<CommittableOffset> offsets);

    void Replay(CommittableOffset emitted);
}

/// <summary>
/// Position of one consumed record. Committing it stores <c>Offset + 1</c> for the group, meaning
/// "everything up to and including this record is processed". Offsets of a partition assignment that
/// has since been revoked are ignored on commit (the new owner re-reads them: at-least-once).
/// </summary>
public sealed class CommittableOffset : IEquatable<CommittableOffset>
{
    internal CommittableOffset(string topic, int partition, long offset, long assignmentEpoch, IOffsetCommitter committer)
    {
        Topic = topic;
        Partition = partition;
        Offset = offset;
        AssignmentEpoch = assignmentEpoch;
        Committer = committer;
    }

    public string Topic { get; }
    public int Partition { get; }
    public long Offset { get; }
    internal long AssignmentEpoch { get; }
    internal IOffsetCommitter Committer { get; }

    public TopicPartitionOffset TopicPartitionOffset => new(Topic, Partition, Offset);

    /// <summary>Commits this offset alone (prefer <see cref="Kafka.Committer"/> for batching).</summary>
    public Task CommitAsync() => Committer.CommitAsync([this]);

    /// <summary>
    /// Reads this record's partition again from its last committed offset, without leaving the group (a rejoin
    /// rebalances every member and stops all their partitions for seconds): the sub-source of the assignment that
    /// emitted this record completes at once and the partition gets a new sub-source. Call it when what was emitted
    /// since the last commit is lost downstream. Nothing happens if that assignment is gone already (revoked or
    /// replayed: its successor reads from the committed offset anyway) or the consumer is stopping.
    /// </summary>
    public void ReplayPartition() => Committer.Replay(this);

    public bool Equals(CommittableOffset? other) =>
        other is not null && Offset == other.Offset && Partition == other.Partition
        && AssignmentEpoch == other.AssignmentEpoch && Topic == other.Topic && ReferenceEquals(Committer, other.Committer);

    public override bool Equals(object? obj) => Equals(obj as CommittableOffset);
    public override int GetHashCode() => HashCode.Combine(Topic, Partition, Offset);
    public override string ToString() => $"{Topic}[{Partition}]@{Offset}";
}

/// <summary>The highest offset per partition of one commit.</summary>
public sealed record CommittableOffsetBatch(IReadOnlyList<CommittableOffset> Offsets)
{
    /// <summary>Number of offsets that were folded into this batch.</summary>
    public int Folded { get; init; }
}
