using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Kafka;

/// <summary>
/// Folds offsets into a batch holding the highest offset per partition and commits it when it holds
/// <see cref="CommitterSettings.MaxBatch"/> offsets or is <see cref="CommitterSettings.MaxInterval"/> old.
/// One commit is in flight at a time; offsets keep being folded meanwhile, so batches grow with load.
/// Emits each batch after its commit succeeded and completes only after the last commit; a failed commit fails the stage.
/// </summary>
internal sealed class CommitterStage : GraphStage<FlowShape<CommittableOffset, CommittableOffsetBatch>>
{
    private readonly CommitterSettings _settings;

    public CommitterStage(CommitterSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxBatch, 1, nameof(settings.MaxBatch));
        _settings = settings;
        Shape = new FlowShape<CommittableOffset, CommittableOffsetBatch>(In, Out);
    }

    public Inlet<CommittableOffset> In { get; } = new("Committer.in");
    public Outlet<CommittableOffsetBatch> Out { get; } = new("Committer.out");
    public override FlowShape<CommittableOffset, CommittableOffsetBatch> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaCommitter");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string FlushTimer = "flush";
        private readonly CommitterStage _stage;
        private List<CommittableOffset> _batch = new();
        private int _last;
        private int _folded;
        private bool _due;
        private bool _inFlight;
        private CommittableOffsetBatch? _toEmit;
        private Action<(CommittableOffsetBatch Batch, Exception? Error)>? _committed;

        public Logic(CommitterStage stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _committed = GetAsyncCallback<(CommittableOffsetBatch, Exception?)>(OnCommitted);
            Pull(_stage.In);
        }

        public void OnPush()
        {
            var offset = Grab(_stage.In);
            Fold(offset);
            if (_folded++ == 0)
                ScheduleOnce(FlushTimer, _stage._settings.MaxInterval);
            if (_folded >= _stage._settings.MaxBatch)
                _due = true;
            TryCommit();
            PullIfRoom();
        }

        public void OnUpstreamFinish()
        {
            _due = true;
            TryCommit();
            CompleteIfDone();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull() => TryEmit();

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey)
        {
            _due = true;
            TryCommit();
        }

        /// <summary>Keeps the highest offset per partition; a newer assignment of a partition wins over an older one.</summary>
        private void Fold(CommittableOffset offset)
        {
            // Streams usually carry long runs of one partition: try the slot used last before searching.
            if (_last < _batch.Count && SamePartition(_batch[_last], offset))
            {
                Replace(_last, offset);
                return;
            }
            for (var i = 0; i < _batch.Count; i++)
            {
                if (SamePartition(_batch[i], offset))
                {
                    _last = i;
                    Replace(i, offset);
                    return;
                }
            }
            _last = _batch.Count;
            _batch.Add(offset);

            static bool SamePartition(CommittableOffset a, CommittableOffset b) =>
                a.Partition == b.Partition && ReferenceEquals(a.Committer, b.Committer)
                && (ReferenceEquals(a.Topic, b.Topic) || string.Equals(a.Topic, b.Topic, StringComparison.Ordinal));
        }

        private void Replace(int slot, CommittableOffset offset)
        {
            var held = _batch[slot];
            if (offset.AssignmentEpoch > held.AssignmentEpoch
                || (offset.AssignmentEpoch == held.AssignmentEpoch && offset.Offset > held.Offset))
                _batch[slot] = offset;
        }

        private void PullIfRoom()
        {
            if (_folded < _stage._settings.MaxBatch && !IsClosed(_stage.In) && !HasBeenPulled(_stage.In))
                Pull(_stage.In);
        }

        private void TryCommit()
        {
            if (!_due || _inFlight || _toEmit is not null || _batch.Count == 0)
                return;
            var offsets = _batch;
            var batch = new CommittableOffsetBatch(offsets) { Folded = _folded };
            _batch = new List<CommittableOffset>();
            _last = 0;
            _folded = 0;
            _due = false;
            _inFlight = true;
            CancelTimer(FlushTimer);

            var commits = offsets.Count == 1 || offsets.All(o => ReferenceEquals(o.Committer, offsets[0].Committer))
                ? offsets[0].Committer.CommitAsync(offsets)
                : Task.WhenAll(offsets.GroupBy(o => o.Committer).Select(g => g.Key.CommitAsync(g.ToList())));
            var callback = _committed!;
            commits.ContinueWith(t => callback((batch, t.Exception?.InnerException)), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private void OnCommitted((CommittableOffsetBatch Batch, Exception? Error) outcome)
        {
            _inFlight = false;
            if (outcome.Error is not null)
            {
                FailStage(outcome.Error);
                return;
            }
            _toEmit = outcome.Batch;
            TryEmit();
        }

        private void TryEmit()
        {
            if (_toEmit is not null && IsAvailable(_stage.Out))
            {
                Push(_stage.Out, _toEmit);
                _toEmit = null;
            }
            if (_toEmit is null)
            {
                TryCommit();
                PullIfRoom();
                CompleteIfDone();
            }
        }

        private void CompleteIfDone()
        {
            if (IsClosed(_stage.In) && !_inFlight && _toEmit is null && _batch.Count == 0)
                CompleteStage();
        }
    }
}
