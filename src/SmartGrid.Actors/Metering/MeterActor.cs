using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Cluster.Sharding;
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
/// One smart meter (sharded, persistent): owns its 1-minute and 15-minute windows, its
/// baseline and its de-duplication state (<see cref="MeterState"/>). A batch of readings is
/// decided and applied at once, and its events wait in memory for the next checkpoint, which
/// persists them all in one atomic write: one journal write per meter per checkpoint instead of
/// one per batch. The Kafka offsets behind the readings are committed only after the
/// checkpoint is answered; if this instance dies first, its unpersisted readings are gone, the
/// checkpoint of the next instance is refused (another <see cref="ReadingsRecorded.Incarnation"/>), and Kafka
/// replays them. Published windows and anomalies are tagged for the window projection. A meter
/// that falls silent closes its windows after the idle time, and after
/// <c>SmartGrid:Pipeline:PassivateAfter</c> without messages it passivates, costing no memory,
/// but only when nothing it holds is unpublished or unpersisted, and only once a snapshot covers
/// its last event: the next reading brings it back with one snapshot row and no events to replay.
/// A reading that reaches the old instance after it asked to passivate dies with it unpersisted;
/// its checkpoint then reaches the new instance, is refused, and Kafka replays it.
/// A replay comes as a newer stream run (<see cref="RecordReadings.Run"/>). When this instance
/// still holds unpersisted readings of an older run, and the replay would be dropped as too late
/// behind them, they may be newer than the replayed ones
/// (an instance re-created after a node loss took the old run's later batches before the
/// replay of the readings the dead instance lost): applied on top of them, the replay would be
/// too late for its windows. So it starts over from its journal (restart, the batch stashed)
/// and takes the replay in order; the old run's late batches are refused.
/// </summary>
public sealed class MeterActor : WindowOwnerActor
{
    public const string TypeName = "meter";
    public const string WindowsTag = "window-emitted";
    public const string PersistenceIdPrefix = "meter-";

    private readonly MeterPolicy _policy;
    private readonly Guid _incarnation = Guid.NewGuid();
    /// <summary>Events applied but not yet written, in order; null while there are none (most of a meter's life).</summary>
    private List<object>? _unpersisted;
    private MeterState _state;

    /// <summary>
    /// A consumer recorded readings here and will ask this instance for their checkpoint: even when
    /// an idle close has persisted them already, passivating first would refuse that checkpoint and
    /// make the consumer replay for nothing.
    /// </summary>
    private bool _awaitingCheckpoint;
    /// <summary>The newest stream run this instance took readings from.</summary>
    private long _run;

    private MeterActor(string meterId, MeterPolicy policy, TimeSpan idleClose, int snapshotEvery, TimeSpan passivateAfter)
        : base(PersistenceIdPrefix + meterId, idleClose, snapshotEvery)
    {
        _policy = policy;
        PassivateWhenSilentFor(passivateAfter);
        _state = new MeterState(meterId);
    }

    protected override bool Recovered(object message)
    {
        switch (message)
        {
            case SnapshotOffer offer:
                _state = MeterState.FromSnapshot((MeterSnapshot)offer.Snapshot);
                SnapshotRecovered(offer.Metadata);
                return true;
            case ReadingsAccepted e:
                _state.Apply(e, _policy);
                return true;
            case VoltageEventsObserved or CustomerInterruptionsObserved:
                return true;
            case WindowsEmitted e:
                _state.Apply(e, _policy);
                return true;
            default:
                return false;
        }
    }

    protected override bool Commanded(object message)
    {
        switch (message)
        {
            case RecordReadings command: Record(command); return true;
            case CheckpointMeter command: Checkpoint(command); return true;
            case GetMeterStatus: Sender.Tell(Status()); return true;
            default: return false;
        }
    }

    protected override void OnIdle()
    {
        // Readings no checkpoint has covered belong to a consumer pass. Made durable behind its back,
        // they would outlive a pass that failed, and its replay of older readings (lost with a dead
        // node's instance) would come too late behind them. Its checkpoint, or its replay (a newer
        // run, which starts this meter over), comes first; the windows close after.
        if (_awaitingCheckpoint)
        {
            ArmIdleTimer();
            return;
        }
        // Closing windows of a silent meter is rare and nobody will checkpoint it soon: persist now.
        Decide([], idle: true);
        PersistUnpersisted(null);
    }

    /// <summary>
    /// How a meter is started: on <see cref="MeterMailbox"/> (configured by AddSmartGridCluster), created by a plain
    /// constructor call. Props built from an expression evaluate its arguments and look the constructor up by reflection
    /// for every meter that starts, and keep an argument array and a deployment of their own in each.
    /// </summary>
    public static Props Props(string meterId, MeterPolicy policy, TimeSpan idleClose, int snapshotEvery, TimeSpan passivateAfter) =>
        PropsFactory(policy, idleClose, snapshotEvery, passivateAfter)(meterId);

    /// <summary><see cref="Props"/> for every meter of a shard region, their settings shared.</summary>
    public static Func<string, Props> PropsFactory(MeterPolicy policy, TimeSpan idleClose, int snapshotEvery, TimeSpan passivateAfter)
    {
        var settings = new MeterProps.Settings(policy, idleClose, snapshotEvery, passivateAfter);
        return meterId => new MeterProps(MeterProps.Template, meterId, settings);
    }

    private sealed class MeterProps : Props
    {
        public static readonly Props Template = Create<MeterActor>().WithMailbox(MeterMailbox.Id);

        public sealed record Settings(MeterPolicy Policy, TimeSpan IdleClose, int SnapshotEvery, TimeSpan PassivateAfter);

        private readonly string _meterId;
        private readonly Settings _settings;

        public MeterProps(Props copy, string meterId, Settings settings) : base(copy) => (_meterId, _settings) = (meterId, settings);

        // Props.NewActor is where Akka itself creates actors; this is that place for meters.
#pragma warning disable AK1000
        public override ActorBase NewActor() =>
            new MeterActor(_meterId, _settings.Policy, _settings.IdleClose, _settings.SnapshotEvery, _settings.PassivateAfter);
#pragma warning restore AK1000

        protected override Props Copy() => new MeterProps(base.Copy(), _meterId, _settings);
    }

    protected override bool HasUnpublishedWindows => _state.HasUnemittedWindows;
    protected override bool CanPassivate => base.CanPassivate && _unpersisted is null && !_awaitingCheckpoint;
    protected override object Snapshot() => _state.ToSnapshot();

    protected override void OnPassivationDue() => PassivateAfterSnapshot();

    /// <summary>A write the journal refused (not failed) leaves memory ahead of the journal: start over from it.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistRejected(cause, @event, sequenceNr);
        throw new InvalidOperationException($"{PersistenceId}: event {sequenceNr} rejected by the journal", cause);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        JournalFailures.For(Context.System).Report();
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        JournalFailures.For(Context.System).Report();
        base.OnRecoveryFailure(reason, message);
    }

    private void Record(RecordReadings command)
    {
        if (command.Run < _run)
        {
            // The newer run replays these readings from the last commit; this answer fails the old run's checkpoint.
            Sender.Tell(new ReadingsRecorded(_state.MeterId, 0, 0, 0, Guid.Empty));
            return;
        }
        if (command.Run > _run && _unpersisted is not null && WouldDropAsLate(command.Readings))
        {
            Log.Info("meter {0}: stream run {1} replaces run {2} while {3} event(s) were unpersisted; starting over from the journal",
                _state.MeterId, command.Run, _run, _unpersisted.Count);
            // A persistent actor puts its stash back in the mailbox before it restarts: the batch is taken after the recovery.
            Stash.Stash();
            throw new StreamRunReplacedException(PersistenceId, _run, command.Run);
        }
        _run = command.Run;
        var accepted = Decide(command.Readings, idle: false);
        _awaitingCheckpoint = true;
        if (accepted is { TooLate: > 0 })
            Log.Warning("meter {0}: {1} reading(s) too late for their window (watermark {2:O}), dropped", _state.MeterId, accepted.TooLate, _state.Watermark);
        Sender.Tell(new ReadingsRecorded(_state.MeterId, accepted?.Readings.Count ?? 0, accepted?.Duplicates ?? 0, accepted?.TooLate ?? 0, _incarnation));
    }

    private void Checkpoint(CheckpointMeter command)
    {
        if (command.Incarnation != _incarnation)
        {
            Sender.Tell(new MeterCheckpointRefused(_state.MeterId, command.Incarnation, _incarnation));
            return;
        }
        _awaitingCheckpoint = false;
        var sender = Sender;
        var events = _unpersisted?.Count ?? 0;
        PersistUnpersisted(() => sender.Tell(new MeterCheckpointed(_state.MeterId, events)));
    }

    /// <summary>Decides and applies at once; the events join the next checkpoint, in order.</summary>
    private ReadingsAccepted? Decide(IReadOnlyList<TelemetryReading> readings, bool idle)
    {
        var events = _state.Decide(readings, idle, _policy);
        foreach (var e in events)
        {
            switch (e)
            {
                case ReadingsAccepted r:
                    _state.Apply(r, _policy);
                    Append(r);
                    break;
                case VoltageEventsObserved or CustomerInterruptionsObserved:
                    // Its effect is the readings' (the run, the interruption live in the state); it only carries them to the projection.
                    (_unpersisted ??= []).Add(e);
                    break;
                case WindowsEmitted w:
                    _state.Apply(w, _policy);
                    (_unpersisted ??= []).Add(w);
                    break;
            }
        }
        ArmIdleTimer();
        return events.Count > 0 ? events[0] as ReadingsAccepted : null;
    }

    /// <summary>
    /// Consecutive accepted batches of one region merge into one event: applying the merged one
    /// rebuilds the same state, and a checkpoint writes one row for them instead of many.
    /// </summary>
    private void Append(ReadingsAccepted r)
    {
        if (_unpersisted is [.., ReadingsAccepted last] && last.Region == r.Region)
            _unpersisted[^1] = last with { Readings = [.. last.Readings, .. r.Readings], Duplicates = last.Duplicates + r.Duplicates, TooLate = last.TooLate + r.TooLate };
        else
            (_unpersisted ??= []).Add(r);
    }

    /// <summary>All unpersisted events go to the journal as one atomic write; memory already holds their effect.</summary>
    private void PersistUnpersisted(Action? whenDone)
    {
        if (_unpersisted is not { } events) { whenDone?.Invoke(); return; }
        _unpersisted = null;
        var remaining = events.Count;
        // A failed write stops this actor and with it the instance the checkpoint was for, so the
        // effect never outlives the write by more than the replay that follows.
        PersistAll(events.Select(Tag), _ =>
        {
            if (--remaining > 0) return;
            AfterWrite(events.Count);
            whenDone?.Invoke();
        });
    }

    /// <summary>
    /// Whether applying the batch on top of what this instance holds would drop some of it as too
    /// late. Only then is starting over worth a recovery: a replay that lateness does not touch
    /// ends in the same state in place, its duplicates dropped, which keeps an overloaded node's
    /// replays from turning into a recovery of every meter it holds.
    /// </summary>
    private bool WouldDropAsLate(IReadOnlyList<TelemetryReading> readings) =>
        _state.Decide(readings, idle: false, _policy).OfType<ReadingsAccepted>().Any(r => r.TooLate > 0);

    /// <summary>Restarts the meter from its journal; see <see cref="Record"/>.</summary>
    private sealed class StreamRunReplacedException(string persistenceId, long held, long replay)
        : Exception($"{persistenceId}: unpersisted readings of stream run {held} dropped for the replay of run {replay}");

    private static object Tag(object e) => e is WindowsEmitted or VoltageEventsObserved or CustomerInterruptionsObserved ? new Tagged(e, [WindowsTag]) : e;

    private MeterStatus Status() => new(
        _state.MeterId, _state.Region, _state.LastReadingAt, _state.AcceptedTotal, _state.DuplicatesTotal, _state.TooLateTotal,
        _state.Windows.Select(w => new MeterWindowStatus(w.Aggregate.Size.ToString(), w.Aggregate.WindowStart, w.Aggregate.ReadingCount,
            w.Aggregate.PowerKwAvg, w.Revision, w.Dirty)).ToList(),
        BaselineByHour());

    /// <summary>The baseline hour by hour of the day the meter last reported: its day type's slots, weekday or weekend.</summary>
    private double?[] BaselineByHour()
    {
        var day = new DateTimeOffset((_state.LastReadingAt ?? DateTimeOffset.UtcNow).UtcDateTime.Date, TimeSpan.Zero);
        return Enumerable.Range(0, MeterBaseline.HoursPerDay).Select(h => _state.Baseline.Expected(day.AddHours(h))).ToArray();
    }
}

public static class MeterActorHosting
{
    /// <summary>
    /// The meter shard region where <paramref name="placement"/> hosts it, a proxy to it everywhere else. The region
    /// places its shards with <see cref="MeterShardAllocation"/>, which Akka.Hosting's ShardOptions cannot take, so it is
    /// started here as Akka.Hosting would, and registered under the same key (<see cref="MeterActor"/>).
    /// </summary>
    public static AkkaConfigurationBuilder AddMeters(this AkkaConfigurationBuilder builder, PipelineSettings pipeline, ShardPlacement placement)
    {
        if (!placement.HostedHere)
            return builder.WithShardRegionProxy<MeterActor>(MeterActor.TypeName, placement.Role, new MeterMessageExtractor());
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
            // Not remembered: a meter starts on its first message, and MeterWake starts the few a dead
            // node left with unpublished windows. The coordinator keeps its shard homes in the journal as before.
            // Sharding's own idle passivation (120 s by default) is off: it stops an entity with a PoisonPill, behind the
            // meter's back, without the snapshot that makes waking it one row, and it keeps a timestamp per entity.
            // The meter passivates itself after PassivateAfter.
            // Rebalanced every 2 s (10 s by default): MeterShardAllocation moves only shards away from their partition's reader,
            // and the sooner they move after a join, the fewer readings the moved meters' partitions read again.
            var settings = ClusterShardingSettings.Create(
                Akka.Configuration.ConfigurationFactory.ParseString(
                        $"role = \"{placement.Role}\"\nremember-entities = off\nstate-store-mode = persistence\npassivate-idle-entity-after = off\nrebalance-interval = 2s")
                    .WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding")),
                system.Settings.Config.GetConfig("akka.cluster.singleton"));
            var region = await ClusterSharding.Get(system).StartAsync(MeterActor.TypeName,
                MeterActor.PropsFactory(policy, pipeline.IdleClose, pipeline.SnapshotEvery, pipeline.PassivateAfter),
                settings, new MeterMessageExtractor(), new MeterShardAllocation(placement.Role), PoisonPill.Instance);
            registry.Register<MeterActor>(region);
        });
    }
}
