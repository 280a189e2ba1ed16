using Akka.Streams;
using Akka.Streams.Stage;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Cuts a partition run's recorded groups into checkpoints: a checkpoint closes the checkpoint interval after its first
/// group, at <paramref name="maxGroups"/> groups, or right after a group that asks for one (<paramref name="cutAfter"/>),
/// which is then checkpointed as soon as it is recorded. GroupedWithin cuts by count and time only, and a heaviest
/// element of GroupedWeightedWithin that meets a started group waits in the next one for the timer. A closed checkpoint
/// not yet taken downstream holds the upstream back.
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
                Close();
            else
                Pull(_stage._in);
        }

        public void OnUpstreamFinish()
        {
            if (_closed is null && _open.Count > 0) Close();
            if (_closed is null) CompleteStage();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull()
        {
            if (_closed is not null) Emit();
        }

        public void OnDownstreamFinish(Exception cause) => CompleteStage();

        protected override void OnTimer(object timerKey)
        {
            // The upstream is held back only while a closed checkpoint waits, so an open one here is always pulling.
            if (_closed is null && _open.Count > 0) Close();
        }

        private void Close()
        {
            CancelTimer(IntervalTimer);
            (_closed, _open) = (_open, []);
            if (IsAvailable(_stage._out)) Emit();
        }

        private void Emit()
        {
            Push(_stage._out, _closed!);
            _closed = null;
            if (!IsClosed(_stage._in))
            {
                if (!HasBeenPulled(_stage._in)) Pull(_stage._in);
            }
            else if (_open.Count > 0) Close();
            else CompleteStage();
        }
    }
}
