using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence;
using Akka.Persistence.Journal;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Persistence;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Regional;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Regional;

/// <summary>
/// One grid region (sharded, persistent): sums its meters' published windows into regional
/// 1-minute and 15-minute aggregates with load against the region's capacity
/// (<see cref="RegionState"/>). Each batch from the projection is answered after it is durable;
/// redelivered windows are recognised by revision and change nothing. Regional windows ready
/// to publish are persisted, tagged for the regional projection.
/// </summary>
public sealed class RegionActor : WindowOwnerActor
{
    public const string TypeName = "region";
    public const string RegionalTag = "regional-emitted";
    public const string PersistenceIdPrefix = "region-";

    /// <summary>
    /// A region also snapshots once the meter windows received since its last snapshot outnumber those it holds (and at
    /// least this many): its events carry every meter's windows, so at a million meters a count of events alone let a
    /// recovery replay hundreds of MB (the 300,000-meter restart timed out replaying 100 MB a region). So bounded, a
    /// recovery reads at most about twice the state, and snapshots cost no more bytes than the events they cover.
    /// </summary>
    public const int MinWindowsBetweenSnapshots = 10_000;

    private readonly Func<double> _capacityKw;
    private readonly Func<GridLayout> _grid;
    private readonly RegionPolicy _policy;
    private RegionState _state;
    /// <summary>Meter windows in the events since the newest snapshot: what a recovery would replay.</summary>
    private long _windowsSinceSnapshot;

    /// <param name="capacityKw">The region's capacity now: read at each emission, so an operator's change applies to the next window published.</param>
    /// <param name="grid">The tree below the regions now, read at each emission like the capacity: where each meter hangs, each node's rating.</param>
    public RegionActor(string region, Func<double> capacityKw, Func<GridLayout> grid, RegionPolicy policy, TimeSpan idleClose, int snapshotEvery)
        : base(PersistenceIdPrefix + region, idleClose, snapshotEvery)
    {
        JournalPluginId = AkkaConfiguration.RegionJournalPluginId;
        SnapshotPluginId = AkkaConfiguration.RegionSnapshotPluginId;
        _capacityKw = capacityKw;
        _grid = grid;
        _policy = policy;
        _state = new RegionState(region);
    }

    protected override bool Recovered(object message)
    {
        switch (message)
        {
            case SnapshotOffer o:
                _state = RegionState.FromSnapshot((RegionSnapshot)o.Snapshot);
                _windowsSinceSnapshot = 0;
                return true;
            case MeterWindowsReceived e:
                _state.Apply(e, _policy);
                _windowsSinceSnapshot += e.Windows.Count;
                return true;
            case RegionalWindowsEmitted e: _state.Apply(e, _policy); return true;
            default: return false;
        }
    }

    protected override bool Commanded(object message)
    {
        if (message is not RecordMeterWindows command) return false;
        Record(command);
        return true;
    }

    protected override void OnIdle() => PersistEmission(idle: true, null);

    protected override bool HasUnpublishedWindows => _state.HasUnemittedWindows;
    protected override object Snapshot() => _state.ToSnapshot();

    private void Record(RecordMeterWindows command)
    {
        var sender = Sender;
        var received = _state.Decide(command.Windows, DateTimeOffset.UtcNow);
        if (received is null)
        {
            sender.Tell(new MeterWindowsRecorded(_state.Region, 0));
            return;
        }
        Persist(received, e =>
        {
            _state.Apply(e, _policy);
            _windowsSinceSnapshot += e.Windows.Count;
            if (AfterWrite()) _windowsSinceSnapshot = 0;
            else if (_windowsSinceSnapshot >= Math.Max(MinWindowsBetweenSnapshots, _state.MeterWindowCount))
            {
                _windowsSinceSnapshot = 0;
                SnapshotNow();
            }
            PersistEmission(idle: false, () => sender.Tell(new MeterWindowsRecorded(_state.Region, e.Windows.Count)));
        });
    }

    private void PersistEmission(bool idle, Action? whenDone)
    {
        var emitted = _state.DecideEmission(idle, _capacityKw(), _grid());
        if (emitted is null)
        {
            whenDone?.Invoke();
            ArmIdleTimer();
            return;
        }
        Persist(new Tagged(emitted, [RegionalTag]), _ =>
        {
            _state.Apply(emitted, _policy);
            if (AfterWrite()) _windowsSinceSnapshot = 0;
            ArmIdleTimer();
            whenDone?.Invoke();
        });
    }
}

public static class RegionActorHosting
{
    /// <summary>The region shard region where <paramref name="placement"/> hosts it, a proxy to it everywhere else.</summary>
    public static AkkaConfigurationBuilder AddRegions(this AkkaConfigurationBuilder builder, PipelineSettings pipeline, ShardPlacement placement)
    {
        if (!placement.HostedHere)
            return builder.WithShardRegionProxy<RegionActor>(RegionActor.TypeName, placement.Role, new RegionMessageExtractor());
        var policy = new RegionPolicy();
        return builder.WithShardRegion<RegionActor>(RegionActor.TypeName,
            (_, _, resolver) =>
            {
                // The regions table, as the node's catalog last loaded it (see RegionCatalog.RefreshInterval).
                var catalog = resolver.GetService<RegionCatalog>();
                var layout = resolver.GetService<GridLayoutCatalog>();
                Func<GridLayout> grid = () => layout.Current;
                return region =>
                {
                    Func<double> capacity = () => catalog.Current.Find(region) is { } known ? known.Spec.CapacityKw : UnknownRegionCapacityKw;
                    return Props.Create(() => new RegionActor(region, capacity, grid, policy, pipeline.IdleClose, pipeline.RegionSnapshotEvery));
                };
            },
            new RegionMessageExtractor(),
            new ShardOptions
            {
                Role = placement.Role, RememberEntities = true, RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                // The coordinator must remember its shards across a full restart, or remembered entities would wait for traffic.
                StateStoreMode = StateStoreMode.Persistence,
            });
    }

    /// <summary>A region missing from the regions table (from before it existed) still aggregates; its load is measured against a nominal capacity.</summary>
    public const double UnknownRegionCapacityKw = 1_000;
}
