using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Cuts a partition run's recorded groups into checkpoints: a checkpoint closes the checkpoint interval after its first
/// group, at <paramref name="maxGroups"/> groups, or right after a group that asks for one (<paramref name="cutAfter"/>),
/// which is then checkpointed as soon as it is recorded. GroupedWithin cuts by count and time only, and a heaviest
/// element of GroupedWeightedWithin that meets a started group waits in the next one for the timer. A closed checkpoint
/// not yet taken downstream (the previous one still persisting) holds the upstream back.
/// </summary>
internal sealed class CheckpointCuts<T>(TimeSpan interval, int maxGroups, Func<T, bool> cutAfter) : GraphStage<FlowShape<T, IReadOnlyList<T>>>
{
    private readonly TimeSpan _interval = interval;
    private readonly int _maxGroups = maxGroups;
    private readonly Func<T, bool> _cutAfter = cutAfter;
    private readonly Inlet<T> _in = new("CheckpointCuts.in");
    private readonly Outlet<IReadOnlyList<T>> _out = new("CheckpointCuts.out");

    public override FlowShape<T, IReadOnlyList<T>> Shape => new(_in, _out);

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string IntervalTimer = "interval";
        private readonly CheckpointCuts<T> _stage;
        private List<T> _open = [];
        private List<T>? _closed;
        private bool _due;

        public Logic(CheckpointCuts<T> stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage._in, this);
            SetHandler(stage._out, this);
        }

        public override void PreStart() => Pull(_stage._in);

        public void OnPush()
        {
            var group = Grab(_stage._in);
            _open.Add(group);
            if (_open.Count == 1)
                ScheduleOnce(IntervalTimer, _stage._interval);
            if (_stage._cutAfter(group) || _open.Count >= _stage._maxGroups)
                _due = true;
            Flush();
        }

        public void OnUpstreamFinish()
        {
            _due = _open.Count > 0;
            Flush();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull() => Flush();

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey)
        {
            _due = _open.Count > 0;
            Flush();
        }

        /// <summary>
        /// Closes the open checkpoint when it is due and none waits, and hands the waiting one on when asked. The upstream
        /// is pulled only while none waits: a group already asked for may still join the open one meanwhile.
        /// </summary>
        private void Flush()
        {
            CloseIfDue();
            if (_closed is not null && IsAvailable(_stage._out))
            {
                Push(_stage._out, _closed);
                _closed = null;
                CloseIfDue();
            }
            if (!IsClosed(_stage._in))
            {
                if (_closed is null && !HasBeenPulled(_stage._in)) Pull(_stage._in);
            }
            else if (_closed is null && _open.Count == 0)
                CompleteStage();
        }

        private void CloseIfDue()
        {
            if (_closed is not null || !_due) return;
            CancelTimer(IntervalTimer);
            (_closed, _open, _due) = (_open, [], false);
        }
    }
}
