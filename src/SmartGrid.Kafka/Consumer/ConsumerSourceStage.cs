using Akka.Event;
using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Kafka;

/// <summary>
/// What the merged and the partitioned consumer sources share: each materialization owns one
/// <see cref="ConsumerHub{TKey,TValue}"/> (its <see cref="IControl"/> is the materialized value), started with the
/// stage; the hub's partition events reach the stage as async callbacks; the stage completes when the consumer
/// stops and fails when it fails.
/// </summary>
internal abstract class ConsumerSourceStage<TKey, TValue, TOut> : GraphStageWithMaterializedValue<SourceShape<TOut>, IControl>
{
    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly string[] _topics;
    private readonly bool _commitsExpected;
    private readonly PartitionAssignment? _assignment;

    protected ConsumerSourceStage(ConsumerSettings<TKey, TValue> settings, IEnumerable<string> topics, bool commitsExpected,
        string name, string outletName, PartitionAssignment? assignment = null)
    {
        settings.Validate();
        _settings = settings;
        _topics = topics.ToArray();
        _commitsExpected = commitsExpected;
        _assignment = assignment;
        Out = new Outlet<TOut>(outletName);
        Shape = new SourceShape<TOut>(Out);
        InitialAttributes = Attributes.CreateName(name);
    }

    public Outlet<TOut> Out { get; }

    public override SourceShape<TOut> Shape { get; }

    protected override Attributes InitialAttributes { get; }

    public override ILogicAndMaterializedValue<IControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var hub = new ConsumerHub<TKey, TValue>(_settings, _topics, _commitsExpected, _assignment);
        return new LogicAndMaterializedValue<IControl>(CreateLogic(hub), hub);
    }

    protected abstract Logic CreateLogic(ConsumerHub<TKey, TValue> hub);

    protected abstract class Logic : OutGraphStageLogic, IPartitionListener
    {
        private readonly ConsumerSourceStage<TKey, TValue, TOut> _stage;
        private Action<IReadOnlyList<PartitionBuffer>>? _assigned;
        private Action<IReadOnlyList<PartitionBuffer>>? _revoked;
        private Action? _stopped;
        private Action<Exception>? _failed;

        protected Logic(ConsumerSourceStage<TKey, TValue, TOut> stage, ConsumerHub<TKey, TValue> hub) : base(stage.Shape)
        {
            _stage = stage;
            Hub = hub;
            SetHandler(stage.Out, this);
        }

        protected ConsumerHub<TKey, TValue> Hub { get; }

        protected Outlet<TOut> Out => _stage.Out;

        public override void PreStart()
        {
            _assigned = GetAsyncCallback<IReadOnlyList<PartitionBuffer>>(Assigned);
            _revoked = GetAsyncCallback<IReadOnlyList<PartitionBuffer>>(Revoked);
            _stopped = GetAsyncCallback(CompleteStage);
            _failed = GetAsyncCallback<Exception>(FailStage);
            ILoggingAdapter log = Materializer is ActorMaterializer materializer
                ? Logging.GetLogger(materializer.System, $"SmartGrid.Kafka.Consumer({_stage._settings.GroupId})")
                : NoLogger.Instance;
            Hub.Start(this, log);
        }

        public override void OnPull() => TryPush();

        public override void PostStop() => Hub.OnSourceStopped();

        /// <summary>Pushes what is ready, if downstream wants it.</summary>
        protected abstract void TryPush();

        /// <summary>New partition assignments (a rebalance or a replay), on the stage's thread.</summary>
        protected abstract void Assigned(IReadOnlyList<PartitionBuffer> partitions);

        /// <summary>Assignments taken away; their buffers are completed already, so nothing more of them is read.</summary>
        protected abstract void Revoked(IReadOnlyList<PartitionBuffer> partitions);

        void IPartitionListener.OnAssigned(IReadOnlyList<PartitionBuffer> partitions) => _assigned!(partitions);
        void IPartitionListener.OnRevoked(IReadOnlyList<PartitionBuffer> partitions) => _revoked!(partitions);
        void IPartitionListener.OnStopped() => _stopped!();
        void IPartitionListener.OnFailed(Exception cause) => _failed!(cause);
    }
}
