using Akka.Actor;
using SmartGrid.Actors.Regional;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Regional;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// One region actor on the node's region journal: it answers a batch of meter windows once it is
/// durable, counts only fresh windows, persists regional windows tagged for the regional
/// projection, and carries on from the journal after a restart with the next revision.
/// </summary>
public sealed class RegionActorSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private const double CapacityKw = 400;

    /// <summary>Each spec its own region: the database is shared by the class.</summary>
    private readonly string _region = $"Region-{Guid.NewGuid():N}"[..20];

    private string PersistenceId => RegionActor.PersistenceIdPrefix + _region;

    private IActorRef Region(int snapshotEvery = 1_000) =>
        Sys.ActorOf(Props.Create(() => new RegionActor(_region, () => CapacityKw, () => GridLayout.Empty, new RegionPolicy(), TimeSpan.FromHours(1), snapshotEvery)));

    /// <summary>A meter's published 1-minute window of one reading at this power (0.01 kWh).</summary>
    private EmittedWindow Window(string meter, DateTimeOffset start, double powerKw, int revision = 1)
    {
        TelemetryReading reading = new()
        {
            MeterId = meter, Timestamp = start, Voltage = 230, Current = 5, PowerKw = powerKw, EnergyKwh = 0.01, Region = _region,
        };
        return new EmittedWindow(WindowAggregate.Of(reading, WindowSize.OneMinute), revision);
    }

    private async Task<int> RecordAsync(IActorRef region, params EmittedWindow[] windows) =>
        (await region.Ask<MeterWindowsRecorded>(new RecordMeterWindows(_region, windows), Patience, TestContext.Current.CancellationToken)).Fresh;

    private async Task<List<EmittedRegionalWindow>> PublishedAsync() =>
        (await TaggedAsync<RegionalWindowsEmitted>(RegionActor.RegionalTag)).Where(e => e.Region == _region).SelectMany(e => e.Windows).ToList();

    [Fact]
    public async Task Should_answer_a_batch_once_it_is_in_the_journal_and_count_a_redelivered_one_as_nothing_new()
    {
        var region = Region();

        Assert.Equal(2, await RecordAsync(region, Window("MTR-A", Noon, 100), Window("MTR-B", Noon, 200)));
        Assert.Equal(1, await Database.JournalRowsAsync(PersistenceId));

        Assert.Equal(0, await RecordAsync(region, Window("MTR-A", Noon, 100), Window("MTR-B", Noon, 200)));
        Assert.Equal(1, await Database.JournalRowsAsync(PersistenceId));
        Assert.Empty(await PublishedAsync());
    }

    [Fact]
    public async Task Should_persist_the_regional_window_tagged_for_the_projection_once_a_meter_moves_on()
    {
        var region = Region();
        await RecordAsync(region, Window("MTR-A", Noon, 100), Window("MTR-B", Noon, 200));

        Assert.Equal(1, await RecordAsync(region, Window("MTR-A", Noon.AddMinutes(1), 50)));

        var noon = Assert.Single(await PublishedAsync());
        Assert.Equal((Noon, WindowSize.OneMinute, 1, 2), (noon.Aggregate.WindowStart, noon.Aggregate.Size, noon.Revision, noon.Aggregate.MeterCount));
        Assert.Equal(300, noon.Aggregate.TotalPowerKw, 9);
        Assert.Equal(75, noon.Aggregate.LoadPercent, 9); // 300 of 400 kW
        Assert.Equal(CapacityKw, noon.Aggregate.CapacityKw);
    }

    [Theory]
    [InlineData(1_000)] // from the journal alone
    [InlineData(1)] // from a snapshot, after every write
    public async Task Should_carry_on_after_a_restart_with_the_windows_and_revisions_it_had(int snapshotEvery)
    {
        var region = Region(snapshotEvery);
        await RecordAsync(region, Window("MTR-A", Noon, 100), Window("MTR-B", Noon, 200));
        await RecordAsync(region, Window("MTR-A", Noon.AddMinutes(1), 50));
        if (snapshotEvery == 1)
            await AwaitConditionAsync(async () => await Database.SnapshotSequenceNrAsync(PersistenceId) == 3, Patience, cancellationToken: TestContext.Current.CancellationToken);
        await StopAsync(region);

        var recovered = Region(snapshotEvery);
        // B's noon window again: known. C's noon window, late: it amends noon, as revision 2.
        Assert.Equal(0, await RecordAsync(recovered, Window("MTR-B", Noon, 200)));
        Assert.Equal(1, await RecordAsync(recovered, Window("MTR-C", Noon, 60)));

        var published = await PublishedAsync();
        Assert.Equal([1, 2], published.Where(w => w.Aggregate.WindowStart == Noon).Select(w => w.Revision));
        var amended = published[^1];
        Assert.Equal((Noon, 3), (amended.Aggregate.WindowStart, amended.Aggregate.MeterCount));
        Assert.Equal(360, amended.Aggregate.TotalPowerKw, 9);
    }

    [Fact]
    public async Task Should_snapshot_once_the_meter_windows_received_since_outnumber_those_it_holds_and_recover_from_it()
    {
        // Events far below the count that snapshots (1,000): at a million meters each event carries hundreds of windows.
        var region = Region();
        var fleet = Enumerable.Range(0, RegionActor.MinWindowsBetweenSnapshots).Select(i => $"MTR-{i:D8}").ToList();
        Assert.Equal(fleet.Count / 2, await RecordAsync(region, fleet.Take(fleet.Count / 2).Select(m => Window(m, Noon, 1)).ToArray()));
        Assert.Equal(0, await Database.SnapshotSequenceNrAsync(PersistenceId));

        // Received since the last snapshot (none) now as many as held, and the minimum: a snapshot, whatever the event count.
        await RecordAsync(region, fleet.Skip(fleet.Count / 2).Select(m => Window(m, Noon, 1)).ToArray());
        await AwaitConditionAsync(async () => await Database.SnapshotSequenceNrAsync(PersistenceId) > 0, Patience, cancellationToken: TestContext.Current.CancellationToken);
        var snapshotAt = await Database.SnapshotSequenceNrAsync(PersistenceId);

        // Half the state again is not enough for the next: the region holds the fleet's noon windows and these.
        await RecordAsync(region, fleet.Take(fleet.Count / 2).Select(m => Window(m, Noon.AddMinutes(1), 2)).ToArray());
        Assert.Equal(snapshotAt, await Database.SnapshotSequenceNrAsync(PersistenceId));
        await StopAsync(region);

        // Back from the snapshot and the one event after it: noon knows every meter, and minute 1 its half of the fleet.
        var recovered = Region();
        Assert.Equal(0, await RecordAsync(recovered, Window(fleet[^1], Noon, 1)));
        Assert.Equal(1, await RecordAsync(recovered, Window(fleet[^1], Noon.AddMinutes(2), 3)));
        var published = await PublishedAsync();
        Assert.Equal(fleet.Count, Assert.Single(published, w => w.Aggregate.WindowStart == Noon).Aggregate.MeterCount);
        Assert.Equal(fleet.Count / 2, Assert.Single(published, w => w.Aggregate.WindowStart == Noon.AddMinutes(1)).Aggregate.MeterCount);
    }
}
