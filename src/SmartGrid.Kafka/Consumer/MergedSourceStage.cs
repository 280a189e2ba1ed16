namespace SmartGrid.Kafka;

/// <summary>
/// Emits the messages of every assigned partition from one stage, taking turns between partitions in chunks
/// (offset order is kept within a partition). Reading the partition buffers directly avoids the per-element
/// hand-over between sub-streams that a MergeMany of partition sub-sources costs.
/// </summary>
internal sealed class MergedSourceStage<TKey, TValue>(ConsumerSettings<TKey, TValue> settings, IEnumerable<string> topics, bool commitsExpected)
    : ConsumerSourceStage<TKey, TValue, CommittableMessage<TKey, TValue>>(settings, topics, commitsExpected, "KafkaSource", "KafkaConsumer.Source.out")
{
    protected override Logic CreateLogic(ConsumerHub<TKey, TValue> hub) => new MergedLogic(this, hub);

    private sealed class MergedLogic(MergedSourceStage<TKey, TValue> stage, ConsumerHub<TKey, TValue> hub) : Logic(stage, hub)
    {
        private readonly List<PartitionReader<TKey, TValue>> _readers = new();
        private int _next;
        private Action? _wake;

        public override void PreStart()
        {
            _wake = GetAsyncCallback(TryPush);
            base.PreStart();
        }

        protected override void Assigned(IReadOnlyList<PartitionBuffer> partitions)
        {
            foreach (var buffer in partitions)
            {
                var reader = new PartitionReader<TKey, TValue>(buffer, Hub, _wake!);
                reader.Attach();
                _readers.Add(reader);
            }
            TryPush();
        }

        // Revoked partitions are dropped by TryPush when their completion is seen.
        protected override void Revoked(IReadOnlyList<PartitionBuffer> partitions) { }

        protected override void TryPush()
        {
            if (!IsAvailable(Out))
                return;
            for (var tried = 0; tried < _readers.Count;)
            {
                if (_next >= _readers.Count)
                    _next = 0;
                var reader = _readers[_next];
                switch (reader.TryRead(out var message))
                {
                    case ReadOutcome.Message:
                        // Stay on this partition for the rest of the chunk already taken, then move on.
                        if (!reader.HasInHand)
                            _next++;
                        Push(Out, message!);
                        return;
                    case ReadOutcome.Completed:
                        _readers.RemoveAt(_next); // revoked: its successor moves into this slot
                        break;
                    case ReadOutcome.Failed:
                        FailStage(reader.Error!);
                        return;
                    default:
                        _next++;
                        tried++;
                        break;
                }
            }
        }
    }
}
