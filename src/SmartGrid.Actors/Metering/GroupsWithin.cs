using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Cuts a partition run's stream into groups: its readings into the groups sent to the meters, and the recorded groups
/// into checkpoints. A group closes at <paramref name="maxCount"/> elements, right after an element that asks for it
/// (<paramref name="cutAfter"/>), which then goes on at once, or on time: <paramref name="interval"/> after its first
/// element, or, <paramref name="ticking"/>, at the next tick of a timer that runs every interval from the last cut
/// (GroupedWithin's clock: a burst after a quiet spell waits for the tick, not a whole interval). GroupedWithin cuts by
/// count and time only, and a heaviest element of GroupedWeightedWithin that meets a started group waits in the next one
/// for the timer. A closed group not yet taken downstream holds the upstream back.
/// </summary>
internal sealed class GroupsWithin<T>(TimeSpan interval, int maxCount, Func<T, bool> cutAfter, bool ticking = false)
    : GraphStage<FlowShape<T, IReadOnlyList<T>>>
{
    private readonly bool _ticking = ticking;
    private readonly TimeSpan _interval = interval;
    private readonly int _maxCount = maxCount;
    private readonly Func<T, bool> _cutAfter = cutAfter;
    private readonly Inlet<T> _in = new("GroupsWithin.in");
    private readonly Outlet<IReadOnlyList<T>> _out = new("GroupsWithin.out");

    public override FlowShape<T, IReadOnlyList<T>> Shape => new(_in, _out);

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string IntervalTimer = "interval";
        private readonly GroupsWithin<T> _stage;
        private List<T> _open = [];
        private List<T>? _closed;
        private bool _due;

        public Logic(GroupsWithin<T> stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage._in, this);
            SetHandler(stage._out, this);
        }

        public override void PreStart()
        {
            if (_stage._ticking)
                ScheduleRepeatedly(IntervalTimer, _stage._interval);
            Pull(_stage._in);
        }

        public void OnPush()
        {
            var group = Grab(_stage._in);
            _open.Add(group);
            if (_open.Count == 1 && !_stage._ticking)
                ScheduleOnce(IntervalTimer, _stage._interval);
            if (_stage._cutAfter(group) || _open.Count >= _stage._maxCount)
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
        /// Closes the open group when it is due and none waits, and hands the waiting one on when asked. The upstream
        /// is pulled only while none waits: an element already asked for may still join the open group meanwhile.
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
            if (_stage._ticking)
                ScheduleRepeatedly(IntervalTimer, _stage._interval);
            else
                CancelTimer(IntervalTimer);
            (_closed, _open, _due) = (_open, [], false);
        }
    }
}
