using Akka.Actor;
using Akka.Event;
using Akka.Cluster.Sharding;
using Akka.Persistence;

namespace SmartGrid.Actors.Persistence;

/// <summary>
/// What meters and regions share as persistent owners of event-time windows: a snapshot every
/// N events with older snapshots deleted (Akka's criteria on save keep the newest only; the events
/// behind it go later, in SmartGrid.Storage's JournalCleanup, once the projections that read them by
/// tag have passed them), an
/// idle timer that closes unpublished windows when no news arrives, and passivation behind a
/// snapshot (<see cref="PassivateAfterSnapshot"/>). Subclasses decide, persist
/// and apply; they call <see cref="AfterWrite"/> after each applied write and
/// <see cref="ArmIdleTimer"/> whenever their unpublished state may have changed.
/// <para>
/// Untyped, with one switch per subclass rather than a ReceivePersistentActor's handler tables: a node holds
/// hundreds of thousands of meters, and those tables (a delegate, a closure and matcher objects per handler,
/// built again in every instance) cost about 1.7 KiB per meter, more than the meter's whole domain state.
/// </para>
/// <para>
/// For the same reason the idle close and the passivation share one lazy timer instead of a timer scheduler and a
/// receive timeout (together about 0.8 KiB per actor): arming it only moves a due time, a tick is scheduled only
/// when none is pending early enough (replacing a later one), and a tick that finds nothing due yet re-arms for what
/// is. The pending tick is cancelled when the actor stops, so a passivated entity leaves nothing in the scheduler.
/// </para>
/// </summary>
public abstract class WindowOwnerActor : UntypedPersistentActor
{
    private readonly TimeSpan _idleClose;
    private readonly int _snapshotEvery;
    /// <summary>When the idle close is due (<see cref="Environment.TickCount64"/>); 0 while nothing is unpublished.</summary>
    private long _idleDueAt;
    /// <summary>How long without commands before <see cref="OnPassivationDue"/>; 0 for never.</summary>
    private long _passivateAfterMs;
    private long _lastCommandAt = Environment.TickCount64;
    /// <summary>Due time of the tick this instance has pending; 0 for none.</summary>
    private long _tickAt;
    private ICancelable? _tick;
    private int _eventsSinceSnapshot;
    /// <summary>Sequence number the newest snapshot covers: recovered, or written by this instance.</summary>
    private long _snapshotSequenceNr;
    private bool _passivateOnSnapshot;

    protected WindowOwnerActor(string persistenceId, TimeSpan idleClose, int snapshotEvery)
    {
        PersistenceId = persistenceId;
        _idleClose = idleClose;
        _snapshotEvery = snapshotEvery;
        _eventsSinceSnapshot = snapshotEvery - FirstSnapshotAfter(persistenceId, snapshotEvery);
    }

    /// <summary>
    /// Events an instance writes before its first snapshot: between half of <paramref name="snapshotEvery"/> and all of it,
    /// by the entity's id. A fleet starts together (a node's start, a fresh fleet's first tick), and with one count for all
    /// every meter wrote its snapshot in the same minute, 46,000 of them in the 50,000-meter soak, and the journal cleanup
    /// then deleted their events at once; spread so, the snapshots come over half an interval, and every later one keeps
    /// its own phase.
    /// </summary>
    public static int FirstSnapshotAfter(string persistenceId, int snapshotEvery)
    {
        var spread = snapshotEvery / 2;
        if (spread < 2) return snapshotEvery;
        // FNV-1a: string.GetHashCode differs between processes, and a restarted node should keep a meter's phase.
        var hash = 2166136261u;
        foreach (var c in persistenceId) hash = (hash ^ c) * 16777619u;
        return snapshotEvery - (int)(hash % (uint)spread);
    }

    public override string PersistenceId { get; }

    /// <summary>True while some window holds data not yet published in its current form.</summary>
    protected abstract bool HasUnpublishedWindows { get; }

    protected abstract object Snapshot();

    /// <summary>Nothing held only in memory: no unpublished window, nothing waiting for a write.</summary>
    protected virtual bool CanPassivate => !HasUnpublishedWindows;

    /// <summary>Call from the snapshot's recovery handler, so a snapshot already covering everything is not written again.</summary>
    protected void SnapshotRecovered(SnapshotMetadata metadata) => _snapshotSequenceNr = metadata.SequenceNr;

    /// <summary>
    /// Stops this entity through its shard once its whole state is in a snapshot, so the next
    /// message brings it back with one snapshot read and no events to replay. Writes that snapshot
    /// first if events came after the last one; if something arrived meanwhile that only memory
    /// holds, it stays active and a later idle period tries again.
    /// </summary>
    protected void PassivateAfterSnapshot()
    {
        if (!CanPassivate || _passivateOnSnapshot) return;
        if (LastSequenceNr <= _snapshotSequenceNr)
        {
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            return;
        }
        _passivateOnSnapshot = true;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(Snapshot());
    }

    /// <summary>Applies one recovered event or snapshot offer; false for a message that is not the subclass's.</summary>
    protected abstract bool Recovered(object message);

    /// <summary>Handles one of the subclass's commands; false for a message that is not the subclass's.</summary>
    protected abstract bool Commanded(object message);

    /// <summary>No news arrived for the idle time while a window was unpublished.</summary>
    protected abstract void OnIdle();

    /// <summary>No command arrived for the time given to <see cref="PassivateWhenSilentFor"/>; asked again after as long.</summary>
    protected virtual void OnPassivationDue()
    {
    }

    /// <summary>Has <see cref="OnPassivationDue"/> called once no command has arrived for <paramref name="silence"/>.</summary>
    protected void PassivateWhenSilentFor(TimeSpan silence)
    {
        _passivateAfterMs = (long)silence.TotalMilliseconds;
        ScheduleTick();
    }

    protected sealed override void OnRecover(object message)
    {
        if (message is RecoveryCompleted) ArmIdleTimer();
        else if (!Recovered(message)) Unhandled(message);
    }

    protected sealed override void OnCommand(object message)
    {
        if (message is Tick tick)
        {
            OnTick(tick);
            return;
        }
        _lastCommandAt = Environment.TickCount64;
        if (Commanded(message)) return;
        switch (message)
        {
            case SaveSnapshotSuccess s:
                _snapshotSequenceNr = Math.Max(_snapshotSequenceNr, s.Metadata.SequenceNr);
                DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
                if (!_passivateOnSnapshot) return;
                _passivateOnSnapshot = false;
                if (CanPassivate && LastSequenceNr <= _snapshotSequenceNr) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            case SaveSnapshotFailure f:
                _passivateOnSnapshot = false;
                Log.Warning("{0}: snapshot failed: {1}", PersistenceId, f.Cause.Message);
                break;
            case DeleteSnapshotsSuccess:
                break;
            case DeleteSnapshotsFailure f:
                Log.Warning("{0}: deleting old snapshots failed: {1}", PersistenceId, f.Cause.Message);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Counts applied writes towards the next snapshot; true when this one wrote it.</summary>
    protected bool AfterWrite(int events = 1)
    {
        _eventsSinceSnapshot += events;
        if (_eventsSinceSnapshot < _snapshotEvery) return false;
        SnapshotNow();
        return true;
    }

    /// <summary>Writes a snapshot of the whole state now; the count towards the next starts again.</summary>
    protected void SnapshotNow()
    {
        _eventsSinceSnapshot = 0;
        SaveSnapshot(Snapshot());
    }

    protected void ArmIdleTimer()
    {
        _idleDueAt = HasUnpublishedWindows ? Environment.TickCount64 + (long)_idleClose.TotalMilliseconds : 0;
        ScheduleTick();
    }

    private void OnTick(Tick tick)
    {
        if (tick.DueAt == _tickAt) (_tickAt, _tick) = (0, null);
        var now = Environment.TickCount64;
        if (_idleDueAt != 0 && now >= _idleDueAt)
        {
            _idleDueAt = 0;
            OnIdle();
        }
        if (_passivateAfterMs > 0 && now >= _lastCommandAt + _passivateAfterMs)
        {
            _lastCommandAt = now;
            OnPassivationDue();
        }
        ScheduleTick();
    }

    /// <summary>Makes sure a tick is pending no later than the next due time.</summary>
    private void ScheduleTick()
    {
        var due = _passivateAfterMs > 0 ? _lastCommandAt + _passivateAfterMs : long.MaxValue;
        if (_idleDueAt != 0) due = Math.Min(due, _idleDueAt);
        if (due == long.MaxValue || _tickAt != 0 && _tickAt <= due) return;
        _tick?.Cancel();
        _tickAt = due;
        _tick = Context.System.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromMilliseconds(Math.Max(0, due - Environment.TickCount64)), Self, new Tick(due), Self);
    }

    protected override void PostStop()
    {
        _tick?.Cancel();
        base.PostStop();
    }

    private sealed record Tick(long DueAt) : IDeadLetterSuppression;
}
