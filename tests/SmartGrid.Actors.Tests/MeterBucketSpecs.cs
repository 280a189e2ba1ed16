using Akka.Actor;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// A meter in its bucket on the node's PostgreSQL journal: what the bucket answers, what reaches the journal and
/// when, and what a new instance recovers from the journal and from a snapshot; and what a bucket of several meters
/// adds: each meter its own journal, one write per checkpoint, meters leaving memory and coming back.
/// </summary>
public sealed class MeterBucketSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly MeterPolicy Policy = new();

    /// <summary>Each spec its own meter: the database is shared by the class.</summary>
    private readonly string _meterId = $"MTR-{Random.Shared.Next(1, 99_999_999):D8}";

    private string PersistenceId => MeterBucket.PersistenceIdPrefix + _meterId;

    private string BucketId => MeterMessageExtractor.ShardOf(_meterId);

    private IActorRef Meter(int snapshotEvery = 100, TimeSpan? idleClose = null, TimeSpan? passivateAfter = null) =>
        Sys.ActorOf(MeterBucket.Props(BucketId, Policy, idleClose ?? TimeSpan.FromHours(1), snapshotEvery, passivateAfter ?? TimeSpan.FromHours(1)));

    private TelemetryReading Reading(DateTimeOffset at, double powerKw = 2) => Reading(_meterId, at, powerKw);

    private static TelemetryReading Reading(string meterId, DateTimeOffset at, double powerKw = 2) => new()
    {
        MeterId = meterId, Timestamp = at, Voltage = 230, Current = powerKw * 1000 / 230, PowerKw = powerKw,
        EnergyKwh = powerKw * 10 / 3600, PowerFactor = 0.95, Frequency = 50, Region = "Pune-West",
    };

    private TelemetryReading[] Every10Seconds(DateTimeOffset from, int count) =>
        Enumerable.Range(0, count).Select(i => Reading(from.AddSeconds(10 * i))).ToArray();

    private async Task<ReadingsRecorded> RecordAsync(IActorRef meter, params TelemetryReading[] readings) =>
        await meter.Ask<ReadingsRecorded>(RecordReadings.Of(_meterId, readings), Patience, cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>A group that a given stream run read (<see cref="RecordReadings.Run"/>).</summary>
    private async Task<ReadingsRecorded> RecordAsync(IActorRef meter, long run, TelemetryReading[] readings) =>
        await meter.Ask<ReadingsRecorded>(RecordReadings.Of(_meterId, readings, run), Patience, cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>Readings recorded and checkpointed: in the journal.</summary>
    private async Task<ReadingsRecorded> RecordDurablyAsync(IActorRef meter, params TelemetryReading[] readings)
    {
        var recorded = await RecordAsync(meter, readings);
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));
        return recorded;
    }

    private async Task<object> CheckpointAsync(IActorRef meter, Guid incarnation) =>
        await meter.Ask<object>(CheckpointReadings.Of(_meterId, incarnation), Patience, cancellationToken: TestContext.Current.CancellationToken);

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

        var checkpointed = Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));

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
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));
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
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, first.Incarnation));
        var neverCheckpointed = Every10Seconds(Noon.AddSeconds(30), 3);
        await RecordAsync(meter, neverCheckpointed);
        await StopAsync(meter);

        var next = Meter();
        var refused = Assert.IsType<CheckpointRefused>(await CheckpointAsync(next, first.Incarnation));

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
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, first.Incarnation));
        var second = await RecordAsync(meter, Every10Seconds(Noon.AddMinutes(1), 6));
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, second.Incarnation));
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
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(meter, recorded.Incarnation));

        // Then nothing more arrives: the idle timer closes the windows and writes them itself, after the readings.
        await AwaitConditionAsync(async () => await Database.JournalRowsAsync(PersistenceId) == 2, Patience, cancellationToken: TestContext.Current.CancellationToken);

        var emitted = (await TaggedAsync<WindowsEmitted>(MeterBucket.WindowsTag)).Where(e => e.MeterId == _meterId).ToList();
        var windows = Assert.Single(emitted).Windows;
        Assert.Equal([("OneMinute", 1, 4), ("FifteenMinutes", 1, 4)],
            windows.Select(w => (w.Aggregate.Size.ToString(), w.Revision, w.Aggregate.ReadingCount)));
        Assert.All(windows, w => Assert.Equal(2, w.Aggregate.PowerKwAvg, 9));
        Assert.All((await StatusAsync(meter)).OpenWindows, w => Assert.False(w.Unpublished));
    }

    /// <summary>Another meter id in this spec's meter's bucket.</summary>
    private string Neighbour()
    {
        while (true)
        {
            var id = $"MTR-{Random.Shared.Next(1, 99_999_999):D8}";
            if (id != _meterId && MeterMessageExtractor.ShardOf(id) == BucketId) return id;
        }
    }

    private async Task<BucketStatus> BucketStatusAsync(IActorRef bucket) =>
        await bucket.Ask<BucketStatus>(GetBucketStatus.Of(_meterId), Patience, cancellationToken: TestContext.Current.CancellationToken);

    [Fact]
    public async Task Should_take_a_group_of_several_meters_at_once_and_write_each_to_its_own_journal_in_one_checkpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        var bucket = Meter();
        var neighbour = Neighbour();
        var group = new RecordReadings(BucketId, [
            new MeterReadings(_meterId, Every10Seconds(Noon, 3)),
            new MeterReadings(neighbour, [Reading(neighbour, Noon), Reading(neighbour, Noon), Reading(neighbour, Noon.AddSeconds(10))]),
        ]);

        var recorded = await bucket.Ask<ReadingsRecorded>(group, Patience, ct);

        Assert.Equal((BucketId, 5, 1, 0), (recorded.BucketId, recorded.Accepted, recorded.Duplicates, recorded.TooLate));
        var checkpointed = Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, recorded.Incarnation));
        Assert.Equal((2, 2), (checkpointed.Meters, checkpointed.Events));
        Assert.Equal(1, await Database.JournalRowsAsync(PersistenceId));
        Assert.Equal(1, await Database.JournalRowsAsync(MeterBucket.PersistenceIdPrefix + neighbour));
        var mine = await StatusAsync(bucket);
        var theirs = await bucket.Ask<MeterStatus>(new GetMeterStatus(neighbour), Patience, ct);
        Assert.Equal((3L, 0L), (mine.AcceptedTotal, mine.DuplicatesTotal));
        Assert.Equal((2L, 1L), (theirs.AcceptedTotal, theirs.DuplicatesTotal));
        Assert.Equal(2, (await BucketStatusAsync(bucket)).ActiveMeters);
    }

    [Fact]
    public async Task Should_let_a_silent_meter_leave_memory_behind_a_snapshot_and_bring_it_back_with_its_state()
    {
        var bucket = Meter(idleClose: TimeSpan.FromMilliseconds(200), passivateAfter: TimeSpan.FromMilliseconds(400));
        var readings = Every10Seconds(Noon, 3);
        var recorded = await RecordAsync(bucket, readings);
        // Awaiting its checkpoint, the meter stays, however long it is silent.
        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);
        Assert.True((await BucketStatusAsync(bucket)).MeterActive);
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, recorded.Incarnation));

        await AwaitConditionAsync(async () => !(await BucketStatusAsync(bucket)).MeterActive, Patience, cancellationToken: TestContext.Current.CancellationToken);

        // It closed its windows (a second event), and left behind a snapshot of that last event, so coming back is one row.
        Assert.Equal(2, await Database.JournalRowsAsync(PersistenceId));
        Assert.Equal(2, await Database.SnapshotSequenceNrAsync(PersistenceId));
        Assert.Equal(0, (await BucketStatusAsync(bucket)).ActiveMeters);
        var again = await RecordAsync(bucket, readings[^1], Reading(Noon.AddSeconds(30)));
        Assert.Equal((1, 1), (again.Accepted, again.Duplicates));
        Assert.Equal(4L, (await StatusAsync(bucket)).AcceptedTotal);
    }

    [Fact]
    public async Task Should_keep_a_meter_with_unpublished_windows_in_memory_until_they_are_closed()
    {
        var bucket = Meter(idleClose: TimeSpan.FromHours(1), passivateAfter: TimeSpan.FromMilliseconds(300));
        var recorded = await RecordAsync(bucket, Every10Seconds(Noon, 3));
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, recorded.Incarnation));

        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);

        // Its open minute holds readings nobody has seen: letting it go would wait for a reading to publish them.
        Assert.True((await BucketStatusAsync(bucket)).MeterActive);
        Assert.Equal(0, await Database.SnapshotSequenceNrAsync(PersistenceId));
    }

    [Fact]
    public async Task Should_take_commands_in_order_when_a_checkpoint_waits_for_the_write_in_flight()
    {
        var ct = TestContext.Current.CancellationToken;
        var bucket = Meter();
        var client = CreateTestProbe();
        var first = await RecordAsync(bucket, Every10Seconds(Noon, 2));

        // No waiting in between: the second checkpoint arrives while the first one's write is in flight.
        bucket.Tell(CheckpointReadings.Of(_meterId, first.Incarnation), client.Ref);
        bucket.Tell(RecordReadings.Of(_meterId, Every10Seconds(Noon.AddSeconds(20), 2)), client.Ref);
        bucket.Tell(CheckpointReadings.Of(_meterId, first.Incarnation), client.Ref);
        bucket.Tell(RecordReadings.Of(_meterId, Every10Seconds(Noon.AddSeconds(40), 2)), client.Ref);

        // A group recorded while a write is in flight is answered at once; the checkpoint behind it waits for the write.
        var answers = new List<object>();
        for (var i = 0; i < 4; i++) answers.Add(await client.ReceiveOneAsync(Patience, ct));
        Assert.Equal([1, 1], answers.OfType<ReadingsCheckpointed>().Select(c => c.Events));
        Assert.Equal([2, 2], answers.OfType<ReadingsRecorded>().Select(r => r.Accepted));
        // The second checkpoint covers the group recorded before it, and not the one after it.
        Assert.Equal(2, await Database.JournalRowsAsync(PersistenceId));
        Assert.Equal(1, Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, first.Incarnation)).Events);
        Assert.Equal(3, await Database.JournalRowsAsync(PersistenceId));
        Assert.Equal(6L, (await StatusAsync(bucket)).AcceptedTotal);
        // Each meter's rows numbered without a gap: the next instance reads all three.
        await StopAsync(bucket);
        Assert.Equal(6L, (await StatusAsync(Meter())).AcceptedTotal);
    }

    [Fact]
    public async Task Should_start_a_meter_over_from_its_journal_when_a_newer_run_replays_what_would_be_too_late_behind_its_unpersisted_readings()
    {
        var bucket = Meter();
        var durable = await RecordDurablyAsync(bucket, Every10Seconds(Noon, 3));
        // Run 1 goes on five minutes later; its pass fails before the checkpoint, so these stay in memory only.
        var lost = await RecordAsync(bucket, run: 1, Every10Seconds(Noon.AddMinutes(5), 3));
        Assert.Equal(durable.Incarnation, lost.Incarnation);

        // Run 2 replays from the last commit: the noon minute is final behind 12:05, so in place these would be too late.
        var replayed = await RecordAsync(bucket, run: 2, Every10Seconds(Noon.AddSeconds(30), 3));

        Assert.Equal((3, 0, 0), (replayed.Accepted, replayed.Duplicates, replayed.TooLate));
        Assert.NotEqual(durable.Incarnation, replayed.Incarnation);
        // What run 1 held unpersisted is gone: its checkpoint must fail, so its offsets are never committed.
        var refused = Assert.IsType<CheckpointRefused>(await CheckpointAsync(bucket, lost.Incarnation));
        Assert.Equal(replayed.Incarnation, refused.Actual);
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, replayed.Incarnation));
        Assert.Equal(6L, (await StatusAsync(bucket)).AcceptedTotal);
        Assert.Equal(2, await Database.JournalRowsAsync(PersistenceId));
        // The dropped readings count as new when run 2 reaches them.
        var again = await RecordAsync(bucket, run: 2, Every10Seconds(Noon.AddMinutes(5), 3));
        Assert.Equal((3, 0, 0, replayed.Incarnation), (again.Accepted, again.Duplicates, again.TooLate, again.Incarnation));
    }

    [Fact]
    public async Task Should_keep_a_meter_in_place_when_a_newer_run_replays_what_is_not_too_late_behind_its_unpersisted_readings()
    {
        var bucket = Meter();
        var durable = await RecordDurablyAsync(bucket, Every10Seconds(Noon, 3));
        var pending = Every10Seconds(Noon.AddSeconds(30), 3);
        await RecordAsync(bucket, run: 1, pending);

        var replayed = await RecordAsync(bucket, run: 2, pending);

        // Same state either way, so no reload: the replay's readings are the duplicates they are.
        Assert.Equal((0, 3, 0, durable.Incarnation), (replayed.Accepted, replayed.Duplicates, replayed.TooLate, replayed.Incarnation));
        // The replay's count of duplicates joins the readings' event it repeats: one row.
        var checkpointed = Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, replayed.Incarnation));
        Assert.Equal(1, checkpointed.Events);
        var status = await StatusAsync(bucket);
        Assert.Equal((6L, 3L), (status.AcceptedTotal, status.DuplicatesTotal));
        Assert.Equal(2, await Database.JournalRowsAsync(PersistenceId));
    }

    [Fact]
    public async Task Should_refuse_a_meter_the_group_of_an_older_run_once_a_newer_run_reached_it_and_its_neighbours_not()
    {
        var bucket = Meter();
        var newer = await RecordAsync(bucket, run: 2, Every10Seconds(Noon, 3));

        var older = await RecordAsync(bucket, run: 1, Every10Seconds(Noon.AddSeconds(30), 3));

        // No checkpoint can cover a refused group: the older run's pass fails, and the newer one replays it.
        Assert.Equal((0, 0, 0, Guid.Empty), (older.Accepted, older.Duplicates, older.TooLate, older.Incarnation));
        Assert.IsType<CheckpointRefused>(await CheckpointAsync(bucket, older.Incarnation));
        Assert.Equal(3L, (await StatusAsync(bucket)).AcceptedTotal);
        Assert.IsType<ReadingsCheckpointed>(await CheckpointAsync(bucket, newer.Incarnation));
        Assert.Equal(1, await Database.JournalRowsAsync(PersistenceId));
        // Runs are per meter, as a partition's are: a neighbour the newer run has not reached still takes the older's.
        var neighbour = Neighbour();
        var theirs = await bucket.Ask<ReadingsRecorded>(new RecordReadings(BucketId, [new MeterReadings(neighbour, [Reading(neighbour, Noon)])], 1), Patience,
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal((1, newer.Incarnation), (theirs.Accepted, theirs.Incarnation));
    }
}
