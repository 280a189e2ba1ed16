using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Hosting;
using Akka.Persistence;
using Akka.Persistence.Journal;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Persistence;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// The meters of one shard (sharded; the entity id is the shard id, <see cref="MeterMessageExtractor"/>): each meter's
/// 1-minute and 15-minute windows, baseline and de-duplication state (<see cref="MeterState"/>) as an object in a
/// dictionary, not an actor. A million meters as actors cost about 2 KiB each in Akka's cell and persistence machinery
/// before their own state, and every reading two messages of its own; here a telemetry group costs one message per
/// bucket, and a meter its state and a small entry.
/// <para>
/// Each meter keeps its own persistence id (<c>meter-&lt;id&gt;</c>), events, tags and snapshots, written through the
/// default journal and snapshot store as a persistent actor writes them: the window projection, the journal cleanup and
/// <see cref="MeterWake"/> read the same rows as before. A meter starts (is loaded) on its first message, from its
/// newest snapshot and the events after it, read together with the other meters a group starts (the batched reads of
/// <see cref="RecoveryBatching"/>); while it loads, the bucket takes nothing else, so every meter sees its readings in order.
/// </para>
/// <para>
/// Exactly-once effect, as with an actor per meter: a group is decided and applied at once, and its events wait in
/// memory for the consumer's <see cref="CheckpointReadings"/>, which writes every meter's events in one journal call
/// (an atomic write per meter). The Kafka offsets are committed only after the answer. A checkpoint names the
/// incarnation that recorded the readings; this instance dies with its unpersisted readings, so the next instance
/// (another incarnation) refuses the checkpoint and Kafka replays them. One write is in flight at a time, so a
/// meter's events reach the journal in order. A meter that falls silent closes its windows after the idle time and
/// writes them itself; after <c>PassivateAfter</c> without readings, with nothing unpublished or unpersisted, it
/// leaves memory behind a snapshot that covers its last event, so its next reading brings it back with one row.
/// </para>
/// <para>
/// A replay comes as a newer stream run (<see cref="RecordReadings.Run"/>). A meter still holding unpersisted readings
/// of an older run, which the replay would be dropped as too late behind, starts over from its journal (see
/// <see cref="MustStartOver"/>); the bucket then takes a new incarnation, so a checkpoint of what it dropped is
/// refused. Groups of an older run are refused.
/// </para>
/// </summary>
public sealed class MeterBucket : UntypedActor
{
    public const string TypeName = "meter";
    public const string WindowsTag = "window-emitted";
    public const string PersistenceIdPrefix = "meter-";

    private readonly string _bucketId;
    private readonly MeterPolicy _policy;
    private readonly TimeSpan _idleClose;
    private readonly int _snapshotEvery;
    private readonly long _passivateAfterMs;
    private readonly Dictionary<string, Meter> _meters = new(StringComparer.Ordinal);
    /// <summary>The meters with <see cref="Meter.AwaitingCheckpoint"/> set: a checkpoint visits them, not the whole bucket.</summary>
    private List<Meter> _awaiting = [];
    private readonly IActorRef _journal;
    private readonly IActorRef _snapshots;
    private readonly RecoveryBatching.Reads _reads;
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly string _writerGuid = Guid.NewGuid().ToString();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ICancelable? _ticks;

    private Guid _incarnation = Guid.NewGuid();

    /// <summary>The journal call in flight, if any: one at a time, so a meter's events are written in order.</summary>
    private Write? _writing;
    private int _lastWriteId = Random.Shared.Next(1 << 20);
    /// <summary>Meters are loading for the command at the head of <see cref="_waiting"/>.</summary>
    private bool _loading;
    /// <summary>The command at the head of <see cref="_waiting"/> waits for the write in flight.</summary>
    private bool _waitingForWrite;
    /// <summary>Commands in arrival order behind the one that waits: every meter sees its readings in order.</summary>
    private readonly LinkedList<(object Command, IActorRef Sender)> _waiting = new();

    private bool Blocked => _loading || _waitingForWrite;

    public MeterBucket(string bucketId, MeterPolicy policy, TimeSpan idleClose, int snapshotEvery, TimeSpan passivateAfter)
    {
        _bucketId = bucketId;
        _policy = policy;
        _idleClose = idleClose;
        _snapshotEvery = snapshotEvery;
        _passivateAfterMs = (long)passivateAfter.TotalMilliseconds;
        var persistence = Akka.Persistence.Persistence.Instance.Apply(Context.System);
        _journal = persistence.JournalFor(null);
        _snapshots = persistence.SnapshotStoreFor(null);
        _reads = RecoveryBatching.For(Context.System).ReadsFor(Context.System.Settings.Config.GetConfig(JournalPluginPath));
        _serialization = Context.System.Serialization;
    }

    /// <summary>The default journal plugin, the one meters write through (<see cref="Hosting.AkkaConfiguration"/>).</summary>
    public const string JournalPluginPath = "akka.persistence.journal.sql";

    /// <summary>How often the bucket looks for silent meters to close and idle ones to let go.</summary>
    public TimeSpan TickInterval => TimeSpan.FromMilliseconds(Math.Clamp(
        Math.Min(_idleClose.TotalMilliseconds, _passivateAfterMs > 0 ? _passivateAfterMs : double.MaxValue) / 4, 50, 1_000));

    protected override void PreStart()
    {
        _ticks = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(TickInterval, TickInterval, Self, Tick.Instance, Self);
    }

    /// <summary>
    /// A failure (a journal write, a load) restarts the bucket empty, under a new incarnation: whoever waits for it is told
    /// now that what it recorded is gone, so the stream replays at once instead of waiting out its ask timeout.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        var refused = new CheckpointRefused(_bucketId, Guid.Empty, Guid.Empty);
        _writing?.AnswerTo?.Tell(refused);
        foreach (var (command, sender) in _waiting)
        {
            switch (command)
            {
                case RecordReadings: sender.Tell(new ReadingsRecorded(_bucketId, 0, 0, 0, Guid.Empty)); break;
                case CheckpointReadings: sender.Tell(refused); break;
            }
        }
        _waiting.Clear();
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        _ticks?.Cancel();
        if (_writing is not null || _meters.Values.Any(m => m.Unpersisted is not null))
            _log.Info("meter bucket {0} stopped with {1} meter(s) holding unpersisted readings; their checkpoint is refused and Kafka replays them",
                _bucketId, _meters.Values.Count(m => m.Unpersisted is not null || m.InWrite));
    }

    public static Props Props(string bucketId, MeterPolicy policy, TimeSpan idleClose, int snapshotEvery, TimeSpan passivateAfter) =>
        Akka.Actor.Props.Create(() => new MeterBucket(bucketId, policy, idleClose, snapshotEvery, passivateAfter));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Loaded loaded: OnLoaded(loaded); return;
            case Tick: OnTick(); return;
            case WriteMessagesSuccessful: return;
            case WriteMessageSuccess success: OnWritten(success.ActorInstanceId, null); return;
            case WriteMessageRejected rejected: OnWritten(rejected.ActorInstanceId, rejected.Cause); return;
            case WriteMessageFailure failure: OnWritten(failure.ActorInstanceId, failure.Cause); return;
            case WriteMessagesFailed failed: WriteFailed(failed.Cause); return;
            case SaveSnapshotSuccess saved: OnSnapshotSaved(saved.Metadata); return;
            case SaveSnapshotFailure failed:
                _log.Warning("{0}: snapshot failed: {1}", failed.Metadata.PersistenceId, failed.Cause.Message);
                if (_meters.TryGetValue(MeterIdOf(failed.Metadata.PersistenceId), out var unsaved)) unsaved.SnapshotPending = false;
                return;
            case DeleteSnapshotsSuccess: return;
            case GetBucketStatus query:
                // Answered at once, even while meters load: it reads only what is in memory.
                Sender.Tell(new BucketStatus(_bucketId, _meters.Count, query.MeterId is { } id && _meters.ContainsKey(id)));
                return;
            case DeleteSnapshotsFailure failed:
                _log.Warning("deleting old snapshots failed: {0}", failed.Cause.Message);
                return;
            case Status.Failure failure:
                // A load failed: the reads are gone with the connection, the stream asks again after its replay.
                throw Failed("loading meters failed", failure.Cause);
        }
        if (message is not (RecordReadings or CheckpointReadings or GetMeterStatus))
        {
            Unhandled(message);
            return;
        }
        if (Blocked) _waiting.AddLast((message, Sender));
        else Handle(message, Sender);
    }

    private void Handle(object command, IActorRef sender)
    {
        switch (command)
        {
            case RecordReadings record: Record(record, sender); return;
            case CheckpointReadings checkpoint: Checkpoint(checkpoint, sender); return;
            case GetMeterStatus query: Status(query, sender); return;
        }
    }

    /// <summary>Takes the waiting commands in order until one has to wait again.</summary>
    private void Drain()
    {
        while (!Blocked && _waiting.First is { } next)
        {
            _waiting.RemoveFirst();
            Handle(next.Value.Command, next.Value.Sender);
        }
    }

    private void Record(RecordReadings command, IActorRef sender)
    {
        foreach (var share in command.Meters)
        {
            if (!_meters.TryGetValue(share.MeterId, out var meter) || command.Run >= meter.Run) continue;
            // A newer run replays these readings from the last commit; this answer fails the old run's checkpoint.
            sender.Tell(new ReadingsRecorded(_bucketId, 0, 0, 0, Guid.Empty));
            return;
        }
        List<string>? missing = null;
        foreach (var share in command.Meters)
        {
            if (!_meters.TryGetValue(share.MeterId, out var meter))
            {
                (missing ??= []).Add(share.MeterId);
                continue;
            }
            if (!MustStartOver(meter, command.Run, share.Readings)) continue;
            if (meter.InWrite)
            {
                // Its journal must hold the write in flight before it is read again.
                WaitForWrite(command, sender);
                return;
            }
            _log.Info("meter {0}: stream run {1} replaces run {2} while {3} event(s) were unpersisted; starting over from the journal",
                meter.State.MeterId, command.Run, meter.Run, meter.Unpersisted!.Count);
            _meters.Remove(share.MeterId);
            // What this meter held unpersisted is dropped: a checkpoint of the incarnation that recorded it must fail.
            _incarnation = Guid.NewGuid();
            (missing ??= []).Add(share.MeterId);
        }
        if (missing is not null)
        {
            Load(missing, command, sender);
            return;
        }
        int accepted = 0, duplicates = 0, tooLate = 0;
        var now = Environment.TickCount64;
        foreach (var share in command.Meters)
        {
            var meter = _meters[share.MeterId];
            meter.Run = command.Run;
            meter.LastCommandAt = now;
            if (!meter.AwaitingCheckpoint)
            {
                meter.AwaitingCheckpoint = true;
                _awaiting.Add(meter);
            }
            if (Decide(meter, share.Readings, idle: false, now) is not { } r) continue;
            (accepted, duplicates, tooLate) = (accepted + r.Readings.Count, duplicates + r.Duplicates, tooLate + r.TooLate);
            if (r.TooLate > 0)
                _log.Warning("meter {0}: {1} reading(s) too late for their window (watermark {2:O}), dropped", meter.State.MeterId, r.TooLate, meter.State.Watermark);
        }
        sender.Tell(new ReadingsRecorded(_bucketId, accepted, duplicates, tooLate, _incarnation));
    }

    /// <summary>
    /// Whether a meter must start over from its journal before a newer run's readings: it holds unpersisted readings of an
    /// older run, and applying the replay on top of them would drop some of it as too late. Those may be newer than the
    /// replayed ones (a bucket re-created after a node loss took the old run's later groups before the replay of the
    /// readings the dead instance lost). Only then is starting over worth a load: a replay that lateness does not touch
    /// ends in the same state in place, its duplicates dropped, which keeps an overloaded node's replays from turning
    /// into a reload of every meter it holds.
    /// </summary>
    private bool MustStartOver(Meter meter, long run, IReadOnlyList<TelemetryReading> readings) =>
        run > meter.Run && meter.Unpersisted is not null &&
        meter.State.Decide(readings, idle: false, _policy).OfType<ReadingsAccepted>().Any(r => r.TooLate > 0);

    private void Checkpoint(CheckpointReadings command, IActorRef sender)
    {
        if (command.Incarnation != _incarnation)
        {
            sender.Tell(new CheckpointRefused(_bucketId, command.Incarnation, _incarnation));
            return;
        }
        if (_writing is not null)
        {
            // One write at a time; every command after this one waits with it, so nothing is recorded ahead of it.
            WaitForWrite(command, sender);
            return;
        }
        var awaiting = new List<Meter>(_awaiting.Count);
        foreach (var meter in _awaiting)
        {
            meter.AwaitingCheckpoint = false;
            // A meter that started over since it recorded is no longer this bucket's: its readings were dropped.
            if (meter.Unpersisted is not null && _meters.TryGetValue(meter.State.MeterId, out var current) && ReferenceEquals(current, meter))
                awaiting.Add(meter);
        }
        _awaiting = [];
        if (awaiting.Count == 0)
        {
            sender.Tell(new ReadingsCheckpointed(_bucketId, 0, 0));
            return;
        }
        WriteUnpersisted(awaiting, sender);
    }

    /// <summary>Decides and applies at once; the events join the meter's next write, in order.</summary>
    private ReadingsAccepted? Decide(Meter meter, IReadOnlyList<TelemetryReading> readings, bool idle, long now)
    {
        var events = meter.State.Decide(readings, idle, _policy);
        foreach (var e in events)
        {
            switch (e)
            {
                case ReadingsAccepted r:
                    meter.State.Apply(r, _policy);
                    Append(meter, r);
                    break;
                case VoltageEventsObserved or CustomerInterruptionsObserved:
                    // Its effect is the readings' (the run, the interruption live in the state); it only carries them to the projection.
                    (meter.Unpersisted ??= []).Add(e);
                    break;
                case WindowsEmitted w:
                    meter.State.Apply(w, _policy);
                    (meter.Unpersisted ??= []).Add(w);
                    break;
            }
        }
        ArmIdleClose(meter, now);
        return events.Count > 0 ? events[0] as ReadingsAccepted : null;
    }

    /// <summary>
    /// Consecutive accepted batches of one region merge into one event: applying the merged one rebuilds the same state,
    /// and a checkpoint writes one row for them instead of many.
    /// </summary>
    private static void Append(Meter meter, ReadingsAccepted r)
    {
        if (meter.Unpersisted is [.., ReadingsAccepted last] && last.Region == r.Region)
            meter.Unpersisted[^1] = last with { Readings = [.. last.Readings, .. r.Readings], Duplicates = last.Duplicates + r.Duplicates, TooLate = last.TooLate + r.TooLate };
        else
            (meter.Unpersisted ??= []).Add(r);
    }

    private void ArmIdleClose(Meter meter, long now) =>
        meter.IdleCloseAt = meter.State.HasUnemittedWindows ? now + (long)_idleClose.TotalMilliseconds : 0;

    /// <summary>
    /// Every meter's unpersisted events go to the journal in one call, an atomic write per meter; memory already holds
    /// their effect. A meter due for a snapshot has it taken now, while its state is exactly what the write makes
    /// durable, and saved once the write succeeds.
    /// </summary>
    private void WriteUnpersisted(List<Meter> meters, IActorRef? answerTo)
    {
        var writes = new List<IPersistentEnvelope>(meters.Count);
        var events = 0;
        var id = ++_lastWriteId;
        foreach (var meter in meters)
        {
            var unpersisted = meter.Unpersisted!;
            meter.Unpersisted = null;
            var persistenceId = PersistenceIdPrefix + meter.State.MeterId;
            var batch = ImmutableList.CreateBuilder<IPersistentRepresentation>();
            foreach (var e in unpersisted)
                batch.Add(new Persistent(Tag(e), ++meter.SequenceNr, persistenceId, string.Empty, false, ActorRefs.NoSender, _writerGuid));
            writes.Add(new AtomicWrite(batch.ToImmutable()));
            events += unpersisted.Count;
            meter.InWrite = true;
            meter.EventsSinceSnapshot += unpersisted.Count;
            // Saved even while an earlier save is on its way, as a persistent actor saves: each covers more, the older go.
            if (meter.EventsSinceSnapshot >= _snapshotEvery)
            {
                meter.EventsSinceSnapshot = 0;
                meter.SnapshotAfterWrite = (meter.State.ToSnapshot(), meter.SequenceNr);
            }
        }
        _writing = new Write(id, meters, events, answerTo);
        _journal.Tell(new WriteMessages(writes, Self, id));
    }

    private void OnWritten(int writeId, Exception? cause)
    {
        if (_writing is not { } write || write.Id != writeId) return;
        if (cause is not null)
        {
            WriteFailed(cause);
            return;
        }
        if (--write.Remaining > 0) return;
        _writing = null;
        foreach (var meter in write.Meters)
        {
            meter.InWrite = false;
            if (meter.SnapshotAfterWrite is not { } snapshot) continue;
            meter.SnapshotAfterWrite = null;
            _snapshots.Tell(new SaveSnapshot(new SnapshotMetadata(PersistenceIdPrefix + meter.State.MeterId, snapshot.SequenceNr, DateTime.UtcNow), snapshot.State));
        }
        write.AnswerTo?.Tell(new ReadingsCheckpointed(_bucketId, write.Meters.Count, write.Events));
        if (!_waitingForWrite) return;
        _waitingForWrite = false;
        Drain();
    }

    /// <summary>
    /// A failed write stops this bucket and with it the incarnation its checkpoint was for, so the effect never outlives
    /// the write by more than the replay that follows.
    /// </summary>
    private void WriteFailed(Exception cause)
    {
        if (_writing is null) return;
        throw Failed("a journal write failed", cause);
    }

    /// <summary>Tells the stream's waiting asks (<see cref="JournalFailures"/>), and gives the exception that restarts the bucket.</summary>
    private InvalidOperationException Failed(string what, Exception cause)
    {
        JournalFailures.For(Context.System).Report();
        return new InvalidOperationException($"meter bucket {_bucketId}: {what}", cause);
    }

    private void OnSnapshotSaved(SnapshotMetadata metadata)
    {
        // Older snapshots go; the events behind this one go later, in the journal cleanup.
        _snapshots.Tell(new DeleteSnapshots(metadata.PersistenceId, new SnapshotSelectionCriteria(metadata.SequenceNr - 1)));
        if (!_meters.TryGetValue(MeterIdOf(metadata.PersistenceId), out var meter)) return;
        meter.SnapshotPending = false;
        meter.SnapshotSequenceNr = Math.Max(meter.SnapshotSequenceNr, metadata.SequenceNr);
        if (meter.PassivateOnSnapshot) Passivate(meter, Environment.TickCount64);
    }

    private static string MeterIdOf(string persistenceId) => persistenceId[PersistenceIdPrefix.Length..];

    private void OnTick()
    {
        if (_meters.Count == 0) return;
        var now = Environment.TickCount64;
        List<Meter>? closing = null;
        List<Meter>? idle = null;
        foreach (var meter in _meters.Values)
        {
            if (meter.IdleCloseAt != 0 && now >= meter.IdleCloseAt)
            {
                // Readings no checkpoint has covered belong to a consumer pass. Made durable behind its back, they would
                // outlive a pass that failed, and its replay of older readings (lost with a dead node's instance) would
                // come too late behind them. Its checkpoint, or its replay, comes first; the windows close after.
                if (meter.AwaitingCheckpoint || meter.InWrite || _writing is not null || Blocked) ArmIdleClose(meter, now);
                else (closing ??= []).Add(meter);
            }
            else if (_passivateAfterMs > 0 && now - meter.LastCommandAt >= _passivateAfterMs)
                (idle ??= []).Add(meter);
        }
        if (closing is not null)
        {
            foreach (var meter in closing) Decide(meter, [], idle: true, now);
            // Closing windows of a silent meter is rare and nobody will checkpoint it soon: write now.
            var written = closing.Where(m => m.Unpersisted is not null).ToList();
            if (written.Count > 0) WriteUnpersisted(written, answerTo: null);
        }
        // A meter that the command waiting for a load names must still be here when the load is in.
        if (idle is null || Blocked) return;
        foreach (var meter in idle) Passivate(meter, now);
    }

    /// <summary>
    /// Lets a silent meter go once its whole state is in a snapshot, so the next reading brings it back with one row and
    /// no events to replay. Writes that snapshot first if events came after the last one; if something arrived meanwhile
    /// that only memory holds, it stays and a later tick tries again.
    /// </summary>
    private void Passivate(Meter meter, long now)
    {
        meter.PassivateOnSnapshot = false;
        if (meter.Unpersisted is not null || meter.AwaitingCheckpoint || meter.InWrite || meter.State.HasUnemittedWindows) return;
        if (now - meter.LastCommandAt < _passivateAfterMs) return;
        if (meter.SequenceNr <= meter.SnapshotSequenceNr)
        {
            _meters.Remove(meter.State.MeterId);
            return;
        }
        if (meter.SnapshotPending) return;
        meter.SnapshotPending = true;
        meter.PassivateOnSnapshot = true;
        meter.EventsSinceSnapshot = 0;
        _snapshots.Tell(new SaveSnapshot(new SnapshotMetadata(PersistenceIdPrefix + meter.State.MeterId, meter.SequenceNr, DateTime.UtcNow), meter.State.ToSnapshot()));
    }

    private void Status(GetMeterStatus query, IActorRef sender)
    {
        if (!_meters.TryGetValue(query.MeterId, out var meter))
        {
            Load([query.MeterId], query, sender);
            return;
        }
        meter.LastCommandAt = Environment.TickCount64;
        var state = meter.State;
        sender.Tell(new MeterStatus(
            state.MeterId, state.Region, state.LastReadingAt, state.AcceptedTotal, state.DuplicatesTotal, state.TooLateTotal,
            state.Windows.Select(w => new MeterWindowStatus(w.Aggregate.Size.ToString(), w.Aggregate.WindowStart, w.Aggregate.ReadingCount,
                w.Aggregate.PowerKwAvg, w.Revision, w.Dirty)).ToList(),
            BaselineByHour(state)));
    }

    /// <summary>The baseline hour by hour of the day the meter last reported: its day type's slots, weekday or weekend.</summary>
    private static double?[] BaselineByHour(MeterState state)
    {
        var day = new DateTimeOffset((state.LastReadingAt ?? DateTimeOffset.UtcNow).UtcDateTime.Date, TimeSpan.Zero);
        return Enumerable.Range(0, MeterBaseline.HoursPerDay).Select(h => state.Baseline.Expected(day.AddHours(h))).ToArray();
    }

    /// <summary>Puts <paramref name="command"/> back at the head of the line until the write in flight is answered.</summary>
    private void WaitForWrite(object command, IActorRef sender)
    {
        _waitingForWrite = true;
        _waiting.AddFirst((command, sender));
    }

    /// <summary>
    /// Reads the meters from their newest snapshots and the events after them, every meter at once (the reads batch
    /// across meters and buckets), and takes <paramref name="command"/> again once they are in. Everything else waits.
    /// </summary>
    private void Load(List<string> meterIds, object command, IActorRef sender)
    {
        _loading = true;
        _waiting.AddFirst((command, sender));
        LoadAsync(meterIds).PipeTo(Self, success: meters => new Loaded(meters));
    }

    private async Task<List<Meter>> LoadAsync(List<string> meterIds)
    {
        var loaded = await Task.WhenAll(meterIds.Select(LoadAsync));
        return [.. loaded];
    }

    private async Task<Meter> LoadAsync(string meterId)
    {
        var persistenceId = PersistenceIdPrefix + meterId;
        var snapshot = await _reads.LatestSnapshotAsync(persistenceId);
        var last = snapshot?.SequenceNr ?? 0;
        // The events after the snapshot and the highest sequence number above it (the hint is exclusive, as a persistent
        // actor asks), read side by side rather than one after the other: a restart loads every meter it meets, and this
        // saves each group a round trip. The events need no upper bound, for nothing else writes a meter while it loads.
        var highestRead = _reads.HighestSequenceNrAsync(persistenceId, last);
        var eventsRead = _reads.EventsAsync(new EventRange(persistenceId, last + 1, long.MaxValue, long.MaxValue));
        var state = snapshot is null
            ? new MeterState(meterId)
            : MeterState.FromSnapshot((MeterSnapshot)RecoveryBatching.Deserialize(_serialization, snapshot.Payload, snapshot.SerializerId, snapshot.Manifest));
        foreach (var row in await eventsRead)
        {
            switch (RecoveryBatching.Deserialize(_serialization, row.Payload, row.SerializerId, row.Manifest))
            {
                case ReadingsAccepted e: state.Apply(e, _policy); break;
                case WindowsEmitted e: state.Apply(e, _policy); break;
            }
            last = Math.Max(last, row.SequenceNr);
        }
        var highest = await highestRead;
        return new Meter(state)
        {
            SequenceNr = Math.Max(last, highest),
            SnapshotSequenceNr = snapshot?.SequenceNr ?? 0,
            EventsSinceSnapshot = _snapshotEvery - WindowOwnerActor.FirstSnapshotAfter(persistenceId, _snapshotEvery),
        };
    }

    private void OnLoaded(Loaded loaded)
    {
        var now = Environment.TickCount64;
        foreach (var meter in loaded.Meters)
        {
            meter.LastCommandAt = now;
            // A meter that comes back with unpublished windows closes them if no reading follows (MeterWake relies on it).
            ArmIdleClose(meter, now);
            _meters[meter.State.MeterId] = meter;
        }
        _loading = false;
        Drain();
    }

    private static object Tag(object e) => e is WindowsEmitted or VoltageEventsObserved or CustomerInterruptionsObserved ? new Tagged(e, [WindowsTag]) : e;

    /// <summary>One meter as the bucket holds it: its state and where its journal stands.</summary>
    private sealed class Meter(MeterState state)
    {
        public MeterState State { get; } = state;
        public long SequenceNr;
        public long SnapshotSequenceNr;
        public int EventsSinceSnapshot;
        /// <summary>Events applied but not yet written, in order; null while there are none (most of a meter's life).</summary>
        public List<object>? Unpersisted;
        /// <summary>The newest stream run the meter took readings from.</summary>
        public long Run;
        /// <summary>
        /// A consumer recorded readings here and will ask for their checkpoint: even when an idle close has written them
        /// already, letting the meter go first would lose nothing but make the consumer's replay pointless work.
        /// </summary>
        public bool AwaitingCheckpoint;
        public bool InWrite;
        /// <summary>A snapshot asked for to let the meter go is on its way.</summary>
        public bool SnapshotPending;
        public bool PassivateOnSnapshot;
        public (MeterSnapshot State, long SequenceNr)? SnapshotAfterWrite;
        public long LastCommandAt;
        /// <summary>When the idle close is due (<see cref="Environment.TickCount64"/>); 0 while nothing is unpublished.</summary>
        public long IdleCloseAt;
    }

    private sealed class Write(int id, List<Meter> meters, int events, IActorRef? answerTo)
    {
        public int Id { get; } = id;
        public List<Meter> Meters { get; } = meters;
        public int Events { get; } = events;
        public IActorRef? AnswerTo { get; } = answerTo;
        /// <summary>The journal answers each event of the call.</summary>
        public int Remaining = events;
    }

    private sealed record Loaded(List<Meter> Meters);

    private sealed class Tick : IDeadLetterSuppression
    {
        public static readonly Tick Instance = new();
    }
}

public static class MeterBucketHosting
{
    /// <summary>
    /// The meter shard region where <paramref name="placement"/> hosts it, a proxy to it everywhere else. The region
    /// places its shards with <see cref="MeterShardAllocation"/>, which Akka.Hosting's ShardOptions cannot take, so it is
    /// started here as Akka.Hosting would, and registered under the same key (<see cref="MeterBucket"/>).
    /// </summary>
    public static AkkaConfigurationBuilder AddMeters(this AkkaConfigurationBuilder builder, PipelineSettings pipeline, ShardPlacement placement)
    {
        if (!placement.HostedHere)
            return builder.WithShardRegionProxy<MeterBucket>(MeterBucket.TypeName, placement.Role, new MeterMessageExtractor());
        builder.AddHocon(ClusterSharding.DefaultConfig().WithFallback(Akka.DistributedData.DistributedData.DefaultConfig()), HoconAddMode.Append);
        return builder.WithActors(async (system, registry, resolver) =>
        {
            // Sags and swells are measured against the region's nominal voltage, as the node's catalog last loaded it.
            var catalog = resolver.GetService<RegionCatalog>();
            var policy = new MeterPolicy
            {
                AllowedLateness = pipeline.AllowedLateness,
                NominalVoltage = region => catalog?.Current.Find(region)?.Spec.NominalVoltage ?? Regions.DefaultNominalVoltage,
            };
            // Not remembered: a bucket starts on its first message, and MeterWake wakes the few meters a dead node left
            // with unpublished windows. The coordinator keeps its shard homes in the journal as before.
            // Sharding's own idle passivation is off: a bucket lets its silent meters go itself, each behind its snapshot.
            // Rebalanced every 2 s (10 s by default): MeterShardAllocation moves only shards away from their partition's reader,
            // and the sooner they move after a join, the fewer readings the moved meters' partitions read again.
            var settings = ClusterShardingSettings.Create(
                Akka.Configuration.ConfigurationFactory.ParseString(
                        $"role = \"{placement.Role}\"\nremember-entities = off\nstate-store-mode = persistence\npassivate-idle-entity-after = off\nrebalance-interval = 2s")
                    .WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding")),
                system.Settings.Config.GetConfig("akka.cluster.singleton"));
            var region = await ClusterSharding.Get(system).StartAsync(MeterBucket.TypeName,
                bucketId => MeterBucket.Props(bucketId, policy, pipeline.IdleClose, pipeline.SnapshotEvery, pipeline.PassivateAfter),
                settings, new MeterMessageExtractor(), new MeterShardAllocation(placement.Role), PoisonPill.Instance);
            registry.Register<MeterBucket>(region);
        });
    }
}
