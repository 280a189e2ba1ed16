using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Kafka;

/// <summary>
/// Emits the messages of one partition assignment, in offset order, from its <see cref="PartitionBuffer"/>.
/// Completes when the partition is revoked or the consumer stops; can be materialized once.
/// Dead-letter entries are not emitted: the stage waits until the dead letter is acknowledged, reports it
/// to the hub (so its offset gets committed) and goes on.
/// </summary>
internal sealed class PartitionSubSourceStage<TKey, TValue> : GraphStage<SourceShape<CommittableMessage<TKey, TValue>>>
{
    private readonly PartitionBuffer _buffer;
    private readonly ConsumerHub<TKey, TValue> _hub;

    public PartitionSubSourceStage(PartitionBuffer buffer, ConsumerHub<TKey, TValue> hub)
    {
        _buffer = buffer;
        _hub = hub;
        Shape = new SourceShape<CommittableMessage<TKey, TValue>>(Out);
    }

    public Outlet<CommittableMessage<TKey, TValue>> Out { get; } = new("KafkaConsumer.PartitionSource.out");

    public override SourceShape<CommittableMessage<TKey, TValue>> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaPartitionSource");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : OutGraphStageLogic
    {
        private readonly PartitionSubSourceStage<TKey, TValue> _stage;
        private PartitionReader<TKey, TValue>? _reader;

        public Logic(PartitionSubSourceStage<TKey, TValue> stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _reader = new PartitionReader<TKey, TValue>(_stage._buffer, _stage._hub, GetAsyncCallback(Drain));
            if (!_reader.Attach())
                FailStage(new InvalidOperationException(
                    $"The sub-source of {_stage._buffer.TopicPartition} can be materialized only once"));
        }

        public override void OnPull() => Drain();

        public override void OnDownstreamFinish(Exception cause)
        {
            // Nobody reads this partition any more: stop fetching it until it is reassigned.
            _stage._buffer.Abandoned = true;
            _stage._buffer.Complete();
            base.OnDownstreamFinish(cause);
        }

        private void Drain()
        {
            if (!IsAvailable(_stage.Out))
            {
                // Revoked or stopped while downstream is busy: finish now rather than at the next pull.
                if (_stage._buffer.IsCompleted)
                    Finish(_stage._buffer.Failure);
                return;
            }
            switch (_reader!.TryRead(out var message))
            {
                case ReadOutcome.Message:
                    Push(_stage.Out, message!);
                    break;
                case ReadOutcome.Completed:
                case ReadOutcome.Failed:
                    Finish(_reader.Error);
                    break;
            }
        }

        private void Finish(Exception? error)
        {
            if (error is null)
                CompleteStage();
            else
                FailStage(error);
        }
    }
}
