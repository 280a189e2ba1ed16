using Akka.Actor;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// One meter actor on the node's PostgreSQL journal: what it answers, what reaches the journal and
/// when, and what a new instance recovers from the journal and from a snapshot.
/// </summary>
public sealed class MeterActorSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly MeterPolicy Policy = new();

    /// <summary>Each spec its own meter: the database is shared by the class.</summary>
    private readonly string _meterId = $"MTR-{Random.Shared.Next(1, 99_999_999):D8}";

    private string PersistenceId => MeterActor.PersistenceIdPrefix + _meterId;

    private IActorRef Meter(int snapshotEvery = 100, TimeSpan? idleClose = null) =>
        Sys.ActorOf(MeterActor.Props(_meterId, Policy, idleClose ?? TimeSpan.FromHours(1), snapshotEvery, TimeSpan.FromHours(1)));

    private TelemetryReading Reading(DateTimeOffset at, double powerKw = 2) => new()
    {
        MeterId = _meterId, Timestamp = at, Voltage = 230, Current = powerKw * 1000 / 230, PowerKw = powerKw,
        EnergyKwh = powerKw * 10 / 3600, PowerFactor = 0.95, Frequency = 50, Region = "Pune-West",
    };

    private TelemetryReading[] Every10Seconds(DateTimeOffset from, int count) =>
        Enumerable.Range(0, count).Select(i => Reading(from.AddSeconds(10 * i))).ToArray();

    private async Task<ReadingsRecorded> RecordAsync(IActorRef meter, params TelemetryReading[] readings) =>
        await meter.Ask<ReadingsRecorded>(new RecordReadings(_meterId, readings), Patience, cancellationToken: TestContext.Current.CancellationToken);

    private async Task<object> CheckpointAsync(IActorRef meter, Guid incarnation) =>
        await meter.Ask<object>(new CheckpointMeter(_meterId, incarnation), Patience, cancellationToken: TestContext.Current.CancellationToken);

    private async Task<MeterStatus> StatusAsync(IActorRef meter) =>
        await meter.Ask<MeterStatus>(new GetMeterStatus(_meterId), Patience, cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public async Task Should_answer_what_it_made_of_a_batch_at_once_and_write_it_to_the_journal_only_at_the_checkpoint()
    {
        var meter = Meter();
        var batch = Every10Seconds(Noon, 3);

        var recorded = await RecordAsync(meter, [.. batch, batch[1]]);

        Assert.Equal((3, 1, 0), (recorded.Accepted, recorded.Duplicates, recorded.TooLate));
        Assert.Equal(0, await Database.JournalRowsAsync(PersistenceId));

        var checkpointed = Assert.IsType<MeterCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));

        Assert.Equal(1, checkpointed.Events);
        Assert.Equal(1, await Database.JournalRowsAsync(PersistenceId));
        var status = await StatusAsync(meter);
        Assert.Equal((3L, 1L, 0L, Noon.AddSeconds(20)), (status.AcceptedTotal, status.DuplicatesTotal, status.TooLateTotal, status.LastReadingAt));
    }

    [Fact]
    public async Task Should_recover_its_counts_windows_and_seen_readings_from_the_journal()
    {
        var meter = Meter();
        var readings = Every10Seconds(Noon, 15); // 12:00:00 .. 12:02:20: the noon minute closes, revision 1
        var recorded = await RecordAsync(meter, readings);
        Assert.IsType<MeterCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));
        var before = await StatusAsync(meter);
        await StopAsync(meter);

        var recovered = Meter();
        var after = await StatusAsync(recovered);

        Assert.Equal((15L, "Pune-West"), (after.AcceptedTotal, after.Region));
        Assert.Equal(before.OpenWindows, after.OpenWindows);
        // The noon minute was published (and, final, let go): the journal holds its emission beside the readings.
        Assert.Equal(2, await Database.JournalRowsAsync(PersistenceId));
        Assert.DoesNotContain(after.OpenWindows, w => w.WindowStart == Noon && w.Size == "OneMinute");
        Assert.Contains(after.OpenWindows, w => w.WindowStart == Noon && w.Size == "FifteenMinutes" && w is { ReadingCount: 15, Unpublished: true });
        // The seen timestamps came back too: a re-sent reading is still a duplicate.
        var again = await RecordAsync(recovered, readings[^1], readings[^2]);
        Assert.Equal((0, 2), (again.Accepted, again.Duplicates));
    }

    [Fact]
    public async Task Should_forget_readings_never_checkpointed_and_refuse_the_checkpoint_of_an_instance_that_is_gone()
    {
        var meter = Meter();
        var first = await RecordAsync(meter, Every10Seconds(Noon, 3));
        Assert.IsType<MeterCheckpointed>(await CheckpointAsync(meter, first.Incarnation));
        var neverCheckpointed = Every10Seconds(Noon.AddSeconds(30), 3);
        await RecordAsync(meter, neverCheckpointed);
        await StopAsync(meter);

        var next = Meter();
        var refused = Assert.IsType<MeterCheckpointRefused>(await CheckpointAsync(next, first.Incarnation));

        Assert.Equal(first.Incarnation, refused.Expected);
        Assert.NotEqual(first.Incarnation, refused.Actual);
        Assert.Equal(3L, (await StatusAsync(next)).AcceptedTotal);
        // Kafka replays them, and they count as new: nothing of them survived.
        var replayed = await RecordAsync(next, neverCheckpointed);
        Assert.Equal((3, 0), (replayed.Accepted, replayed.Duplicates));
    }

    [Fact]
    public async Task Should_recover_from_its_snapshot_when_the_events_behind_it_are_gone()
    {
        var meter = Meter(snapshotEvery: 1);
        var first = await RecordAsync(meter, Every10Seconds(Noon, 6));
        Assert.IsType<MeterCheckpointed>(await CheckpointAsync(meter, first.Incarnation));
        var second = await RecordAsync(meter, Every10Seconds(Noon.AddMinutes(1), 6));
        Assert.IsType<MeterCheckpointed>(await CheckpointAsync(meter, second.Incarnation));
        await AwaitConditionAsync(async () => await Database.SnapshotSequenceNrAsync(PersistenceId) == 2, Patience, cancellationToken: TestContext.Current.CancellationToken);
        var before = await StatusAsync(meter);
        await StopAsync(meter);

        // As JournalCleanup does: every event a snapshot covers goes, but the entity's newest.
        await Database.ExecuteAsync(
            "DELETE FROM journal WHERE persistence_id = $1 AND sequence_number < (SELECT max(sequence_number) FROM journal WHERE persistence_id = $1)", PersistenceId);
        Assert.Equal(1, await Database.JournalRowsAsync(PersistenceId));

        var recovered = Meter(snapshotEvery: 1);
        var after = await StatusAsync(recovered);

        Assert.Equal((12L, before.LastReadingAt), (after.AcceptedTotal, after.LastReadingAt));
        Assert.Equal(before.OpenWindows, after.OpenWindows);
        Assert.Equal(before.BaselineKwByHour, after.BaselineKwByHour);
    }

    [Fact]
    public async Task Should_close_and_persist_the_windows_of_a_meter_that_fell_silent_tagged_for_the_window_projection()
    {
        var meter = Meter(idleClose: TimeSpan.FromMilliseconds(300));
        var recorded = await RecordAsync(meter, Every10Seconds(Noon, 4));
        // The idle close waits for the consumer's checkpoint of what it recorded (a failed pass replays instead).
        Assert.IsType<MeterCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));

        // Then nothing more arrives: the idle timer closes the windows and writes them itself, after the readings.
        await AwaitConditionAsync(async () => await Database.JournalRowsAsync(PersistenceId) == 2, Patience, cancellationToken: TestContext.Current.CancellationToken);

        var emitted = (await TaggedAsync<WindowsEmitted>(MeterActor.WindowsTag)).Where(e => e.MeterId == _meterId).ToList();
        var windows = Assert.Single(emitted).Windows;
        Assert.Equal([("OneMinute", 1, 4), ("FifteenMinutes", 1, 4)],
            windows.Select(w => (w.Aggregate.Size.ToString(), w.Revision, w.Aggregate.ReadingCount)));
        Assert.All(windows, w => Assert.Equal(2, w.Aggregate.PowerKwAvg, 9));
        Assert.All((await StatusAsync(meter)).OpenWindows, w => Assert.False(w.Unpublished));
    }
}
