using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Kafka;

/// <summary>
/// Emits the messages of every assigned partition from one stage, taking turns between partitions in chunks
/// (offset order is kept within a partition). Reading the partition buffers directly avoids the per-element
/// hand-over between sub-streams that a MergeMany of partition sub-sources costs.
/// </summary>
internal sealed class MergedSourceStage<TKey, TValue>
    : GraphStageWithMaterializedValue<SourceShape<CommittableMessage<TKey, TValue>>, IControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly string[] _topics;
    private readonly bool _commitsExpected;

    public MergedSourceStage(ConsumerSettings<TKey, TValue> settings, IEnumerable<string> topics, bool commitsExpected)
    {
        settings.Validate();
        _settings = settings;
        _topics = topics.ToArray();
        _commitsExpected = commitsExpected;
        Shape = new SourceShape<CommittableMessage<TKey, TValue>>(Out);
    }

    public Outlet<CommittableMessage<TKey, TValue>> Out { get; } = new("KafkaConsumer.Source.out");

    public override SourceShape<CommittableMessage<TKey, TValue>> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaSource");

    public override ILogicAndMaterializedValue<IControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var hub = new ConsumerHub<TKey, TValue>(_settings, _topics, _commitsExpected);
        return new LogicAndMaterializedValue<IControl>(new Logic(this, hub), hub);
    }

    private sealed class Logic : OutGraphStageLogic, IPartitionListener
    {
        private readonly MergedSourceStage<TKey, TValue> _stage;
        private readonly ConsumerHub<TKey, TValue> _hub;
        private readonly List<PartitionReader<TKey, TValue>> _readers = new();
        private int _next;
        private Action? _wake;
        private Action<IReadOnlyList<PartitionBuffer>>? _assigned;
        private Action? _stopped;
        private Action<Exception>? _failed;

        public Logic(MergedSourceStage<TKey, TValue> stage, ConsumerHub<TKey, TValue> hub) : base(stage.Shape)
        {
            _stage = stage;
            _hub = hub;
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _wake = GetAsyncCallback(TryPush);
            _assigned = GetAsyncCallback<IReadOnlyList<PartitionBuffer>>(partitions =>
            {
                foreach (var buffer in partitions)
                {
                    var reader = new PartitionReader<TKey, TValue>(buffer, _hub, _wake);
                    reader.Attach();
                    _readers.Add(reader);
                }
                TryPush();
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
            if (!IsAvailable(_stage.Out))
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
                        Push(_stage.Out, message!);
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

        // Revoked partitions are dropped by TryPush when their completion is seen.
        void IPartitionListener.OnAssigned(IReadOnlyList<PartitionBuffer> partitions) => _assigned!(partitions);
        void IPartitionListener.OnRevoked(IReadOnlyList<PartitionBuffer> partitions) { }
        void IPartitionListener.OnStopped() => _stopped!();
        void IPartitionListener.OnFailed(Exception cause) => _failed!(cause);
    }
}
