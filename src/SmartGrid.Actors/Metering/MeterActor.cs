using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence;
using Akka.Persistence.Journal;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Persistence;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// One smart meter (sharded, persistent): owns its 1-minute and 15-minute windows, its
/// baseline and its de-duplication state (<see cref="MeterState"/>). A batch of readings is
/// answered only after its events are in the journal, so the Kafka offset behind it may be
/// committed. Published windows and anomalies are persisted in the same atomic write, tagged
/// for the window projection. A meter that falls silent closes its windows after the idle
/// time; it passivates only when nothing it holds is unpublished.
/// </summary>
public sealed class MeterActor : WindowOwnerActor
{
    public const string TypeName = "meter";
    public const string WindowsTag = "window-emitted";

    private readonly MeterPolicy _policy;
    private MeterState _state;

    public MeterActor(string meterId, MeterPolicy policy, TimeSpan idleClose, int snapshotEvery)
        : base("meter-" + meterId, idleClose, snapshotEvery)
    {
        _policy = policy;
        _state = new MeterState(meterId);

        Recover<SnapshotOffer>(offer => _state = MeterState.FromSnapshot((MeterSnapshot)offer.Snapshot));
        Recover<ReadingsAccepted>(e => _state.Apply(e));
        Recover<WindowsEmitted>(e => _state.Apply(e, _policy));

        Command<RecordReadings>(Record);
        Command<GetMeterStatus>(_ => Sender.Tell(Status()));
        Command<ReceiveTimeout>(_ =>
        {
            if (!_state.HasUnemittedWindows) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
        WithWindowOwnerHandlers(() => Persist(_state.Decide([], idle: true, _policy), null));
    }

    protected override bool HasUnpublishedWindows => _state.HasUnemittedWindows;
    protected override object Snapshot() => _state.ToSnapshot();

    protected override void PreStart()
    {
        Context.SetReceiveTimeout(TimeSpan.FromMinutes(5));
        base.PreStart();
    }

    private void Record(RecordReadings command)
    {
        var events = _state.Decide(command.Readings, idle: false, _policy);
        var sender = Sender;
        if (events.Count == 0)
        {
            sender.Tell(new ReadingsRecorded(_state.MeterId, 0, 0, 0));
            return;
        }
        var accepted = (ReadingsAccepted)events[0];
        Persist(events, () =>
        {
            if (accepted.TooLate > 0)
                Log.Warning("meter {0}: {1} reading(s) too late for their window (watermark {2:O}), dropped", _state.MeterId, accepted.TooLate, _state.Watermark);
            sender.Tell(new ReadingsRecorded(_state.MeterId, accepted.Readings.Count, accepted.Duplicates, accepted.TooLate));
        });
    }

    /// <summary>All events of one decision go to the journal as one atomic write.</summary>
    private void Persist(IReadOnlyList<object> events, Action? whenDone)
    {
        if (events.Count == 0) { whenDone?.Invoke(); return; }
        var remaining = events.Count;
        PersistAll(events.Select(Tag), e =>
        {
            switch (e is Tagged t ? t.Payload : e)
            {
                case ReadingsAccepted r: _state.Apply(r); break;
                case WindowsEmitted w: _state.Apply(w, _policy); break;
            }
            if (--remaining > 0) return;
            AfterWrite(events.Count);
            ArmIdleTimer();
            whenDone?.Invoke();
        });
    }

    private static object Tag(object e) => e is WindowsEmitted ? new Tagged(e, [WindowsTag]) : e;

    private MeterStatus Status() => new(
        _state.MeterId, _state.Region, _state.LastReadingAt, _state.AcceptedTotal, _state.DuplicatesTotal, _state.TooLateTotal,
        _state.Windows.Select(w => new MeterWindowStatus(w.Aggregate.Size.ToString(), w.Aggregate.WindowStart, w.Aggregate.ReadingCount,
            w.Aggregate.PowerKwAvg, w.Revision, w.Dirty)).ToList(),
        Enumerable.Range(0, 24).Select(h => _state.Baseline.Expected(new DateTimeOffset(2000, 1, 1, h, 0, 0, TimeSpan.Zero))).ToArray());
}

public static class MeterActorHosting
{
    /// <summary>The meter shard region on processor nodes, a proxy to it everywhere else.</summary>
    public static AkkaConfigurationBuilder AddMeters(this AkkaConfigurationBuilder builder, SmartGridOptions options, IReadOnlyList<string> roles)
    {
        if (!roles.Contains(NodeRoles.Processor))
            return builder.WithShardRegionProxy<MeterActor>(MeterActor.TypeName, NodeRoles.Processor, new MeterMessageExtractor());
        var policy = new MeterPolicy { AllowedLateness = options.Pipeline.AllowedLateness };
        return builder.WithShardRegion<MeterActor>(MeterActor.TypeName,
            id => Props.Create(() => new MeterActor(id, policy, options.Pipeline.IdleClose, options.Pipeline.SnapshotEvery)),
            new MeterMessageExtractor(),
            new ShardOptions
            {
                Role = NodeRoles.Processor, RememberEntities = true, RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                // The coordinator must remember its shards across a full restart, or remembered entities would wait for traffic.
                StateStoreMode = StateStoreMode.Persistence,
            });
    }
}
