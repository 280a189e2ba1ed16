using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Kafka consumer sources. Each materialization runs one Confluent consumer polled by one dedicated thread
/// (see <see cref="ConsumerSettings{TKey,TValue}"/> for buffering and back-pressure) and materializes an
/// <see cref="IControl"/> to stop it.
/// </summary>
public static class KafkaConsumer
{
    /// <summary>
    /// One back-pressured sub-source per assigned partition, emitting that partition's messages in offset order.
    /// A sub-source completes when its partition is revoked (nothing of it is emitted after the revocation) or
    /// when the consumer stops; the partition's next assignment gets a new sub-source.
    /// </summary>
    public static Source<(TopicPartition Partition, Source<CommittableMessage<TKey, TValue>, NotUsed> Messages), IControl>
        CommittablePartitionedSource<TKey, TValue>(ConsumerSettings<TKey, TValue> settings, params IEnumerable<string> topics) =>
        Source.FromGraph(new PartitionedSourceStage<TKey, TValue>(settings, topics, commitsExpected: true));

    /// <summary>
    /// The same sub-sources for the partitions of <paramref name="assignment"/>, which the application sets: the consumer
    /// joins no group, starts each partition at the group's committed offset and commits to the group as a
    /// non-member (see <see cref="PartitionAssignment"/>). Every reader of the group must work this way: a broker refuses such
    /// commits while any member is subscribed to the group.
    /// </summary>
    public static Source<(TopicPartition Partition, Source<CommittableMessage<TKey, TValue>, NotUsed> Messages), IControl>
        CommittablePartitionedSource<TKey, TValue>(ConsumerSettings<TKey, TValue> settings, PartitionAssignment assignment) =>
        Source.FromGraph(new PartitionedSourceStage<TKey, TValue>(settings, [], commitsExpected: true, assignment));

    /// <summary>All assigned partitions merged; order is kept within each partition only.</summary>
    public static Source<CommittableMessage<TKey, TValue>, IControl> CommittableSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, params IEnumerable<string> topics) =>
        Source.FromGraph(new MergedSourceStage<TKey, TValue>(settings, topics, commitsExpected: true));

    /// <summary>Records only, nothing to commit (set <c>enable.auto.commit</c> in the properties if the group should remember).</summary>
    public static Source<ConsumeResult<TKey, TValue>, IControl> PlainSource<TKey, TValue>(
        ConsumerSettings<TKey, TValue> settings, params IEnumerable<string> topics) =>
        Source.FromGraph(new MergedSourceStage<TKey, TValue>(settings, topics, commitsExpected: false))
            .Select(m => m.Record);

    /// <summary>
    /// Runs <paramref name="perPartition"/> on every partition sub-source and merges their outputs, keeping the
    /// consumer's <see cref="IControl"/> (Akka's own MergeMany wants the inner and outer materialized values to match).
    /// </summary>
    public static Source<TOut, IControl> MergePartitions<TKey, TValue, TOut>(
        this Source<(TopicPartition Partition, Source<CommittableMessage<TKey, TValue>, NotUsed> Messages), IControl> source,
        int breadth,
        Func<TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>, Source<TOut, NotUsed>> perPartition) =>
        source.Via(Flow.Create<(TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>)>()
            .MergeMany(breadth, p => perPartition(p.Item1, p.Item2)));
}
