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
/// </summary>
public abstract class WindowOwnerActor : UntypedPersistentActor, IWithTimers
{
    private const string IdleTimer = "idle";

    private readonly TimeSpan _idleClose;
    private readonly int _snapshotEvery;
    private int _eventsSinceSnapshot;
    /// <summary>Sequence number the newest snapshot covers: recovered, or written by this instance.</summary>
    private long _snapshotSequenceNr;
    private bool _passivateOnSnapshot;

    protected WindowOwnerActor(string persistenceId, TimeSpan idleClose, int snapshotEvery)
    {
        PersistenceId = persistenceId;
        _idleClose = idleClose;
        _snapshotEvery = snapshotEvery;
    }

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

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

    protected sealed override void OnRecover(object message)
    {
        if (message is RecoveryCompleted) ArmIdleTimer();
        else if (!Recovered(message)) Unhandled(message);
    }

    protected sealed override void OnCommand(object message)
    {
        if (Commanded(message)) return;
        switch (message)
        {
            case IdleTick:
                OnIdle();
                break;
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

    protected void AfterWrite(int events = 1)
    {
        _eventsSinceSnapshot += events;
        if (_eventsSinceSnapshot < _snapshotEvery) return;
        _eventsSinceSnapshot = 0;
        SaveSnapshot(Snapshot());
    }

    protected void ArmIdleTimer()
    {
        if (HasUnpublishedWindows) Timers.StartSingleTimer(IdleTimer, IdleTick.Instance, _idleClose);
        else Timers.Cancel(IdleTimer);
    }

    private sealed class IdleTick : IDeadLetterSuppression
    {
        public static readonly IdleTick Instance = new();
    }
}
