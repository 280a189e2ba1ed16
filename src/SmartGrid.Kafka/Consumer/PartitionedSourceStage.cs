using Akka;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Emits one sub-source per assigned partition; materializes the consumer's <see cref="IControl"/>.
/// Starting the stage starts the consumer thread; the stage completes when the consumer is stopped.
/// </summary>
internal sealed class PartitionedSourceStage<TKey, TValue>
    : GraphStageWithMaterializedValue<SourceShape<(TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>)>, IControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly string[] _topics;
    private readonly bool _commitsExpected;

    public PartitionedSourceStage(ConsumerSettings<TKey, TValue> settings, IEnumerable<string> topics, bool commitsExpected)
    {
        settings.Validate();
        _settings = settings;
        _topics = topics.ToArray();
        _commitsExpected = commitsExpected;
        Shape = new SourceShape<(TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>)>(Out);
    }

    public Outlet<(TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>)> Out { get; } =
        new("KafkaConsumer.PartitionedSource.out");

    public override SourceShape<(TopicPartition, Source<CommittableMessage<TKey, TValue>, NotUsed>)> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaPartitionedSource");

    public override ILogicAndMaterializedValue<IControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var hub = new ConsumerHub<TKey, TValue>(_settings, _topics, _commitsExpected);
        return new LogicAndMaterializedValue<IControl>(new Logic(this, hub), hub);
    }

    private sealed class Logic : OutGraphStageLogic, IPartitionListener
    {
        private readonly PartitionedSourceStage<TKey, TValue> _stage;
        private readonly ConsumerHub<TKey, TValue> _hub;
        private readonly Queue<PartitionBuffer> _waiting = new();
        private Action<IReadOnlyList<PartitionBuffer>>? _assigned;
        private Action<IReadOnlyList<PartitionBuffer>>? _revoked;
        private Action? _stopped;
        private Action<Exception>? _failed;

        public Logic(PartitionedSourceStage<TKey, TValue> stage, ConsumerHub<TKey, TValue> hub) : base(stage.Shape)
        {
            _stage = stage;
            _hub = hub;
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _assigned = GetAsyncCallback<IReadOnlyList<PartitionBuffer>>(partitions =>
            {
                foreach (var partition in partitions)
                    _waiting.Enqueue(partition);
                TryPush();
            });
            _revoked = GetAsyncCallback<IReadOnlyList<PartitionBuffer>>(partitions =>
            {
                // A partition revoked before anybody took its sub-source is simply forgotten.
                var keep = _waiting.Where(w => !partitions.Contains(w)).ToList();
                _waiting.Clear();
                foreach (var partition in keep)
                    _waiting.Enqueue(partition);
            });
            _stopped = GetAsyncCallback(CompleteStage);
            _failed = GetAsyncCallback<Exception>(FailStage);
            ILoggingAdapter log = Materializer is ActorMaterializer materializer
                ? Logging.GetLogger(materializer.System, $"SmartGrid.Kafka.Consumer({_stage._settings.GroupId})")
                : NoLogger.Instance;
            _hub.Start(this, log);
        }

        public override void OnPull() => TryPush();

        public override void PostStop() => _hub.OnSourceStopped();

        private void TryPush()
        {
            if (!IsAvailable(_stage.Out) || !_waiting.TryDequeue(out var partition))
                return;
            var source = Source.FromGraph(new PartitionSubSourceStage<TKey, TValue>(partition, _hub));
            Push(_stage.Out, (partition.TopicPartition, source));
        }

        void IPartitionListener.OnAssigned(IReadOnlyList<PartitionBuffer> partitions) => _assigned!(partitions);
        void IPartitionListener.OnRevoked(IReadOnlyList<PartitionBuffer> partitions) => _revoked!(partitions);
        void IPartitionListener.OnStopped() => _stopped!();
        void IPartitionListener.OnFailed(Exception cause) => _failed!(cause);
    }
}
