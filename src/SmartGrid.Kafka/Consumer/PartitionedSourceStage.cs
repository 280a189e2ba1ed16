using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Emits one sub-source per assigned partition; materializes the consumer's <see cref="IControl"/>.
/// Starting the stage starts the consumer thread; the stage completes when the consumer is stopped.
/// </summary>
internal sealed class PartitionedSourceStage<TKey, TValue>(ConsumerSettings<TKey, TValue> settings, IEnumerable<string> topics, bool commitsExpected,
    PartitionAssignment? assignment = null)
    : ConsumerSourceStage<TKey, TValue, (TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>)>(
        settings, topics, commitsExpected, "KafkaPartitionedSource", "KafkaConsumer.PartitionedSource.out", assignment)
{
    protected override Logic CreateLogic(ConsumerHub<TKey, TValue> hub) => new PartitionedLogic(this, hub);

    private sealed class PartitionedLogic(PartitionedSourceStage<TKey, TValue> stage, ConsumerHub<TKey, TValue> hub) : Logic(stage, hub)
    {
        private readonly Queue<PartitionBuffer> _waiting = new();

        protected override void Assigned(IReadOnlyList<PartitionBuffer> partitions)
        {
            foreach (var partition in partitions)
                _waiting.Enqueue(partition);
            TryPush();
        }

        protected override void Revoked(IReadOnlyList<PartitionBuffer> partitions)
        {
            // A partition revoked before anybody took its sub-source is simply forgotten.
            var keep = _waiting.Where(w => !partitions.Contains(w)).ToList();
            _waiting.Clear();
            foreach (var partition in keep)
                _waiting.Enqueue(partition);
        }

        protected override void TryPush()
        {
            if (!IsAvailable(Out) || !_waiting.TryDequeue(out var partition))
                return;
            var source = Source.FromGraph(new PartitionSubSourceStage<TKey, TValue>(partition, Hub));
            Push(Out, (partition.TopicPartition, source));
        }
    }
}
