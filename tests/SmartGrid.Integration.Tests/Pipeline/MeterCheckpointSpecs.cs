using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// The meter's side of the checkpoint protocol, against the real shard region and journal: what
/// it records waits in memory until a checkpoint persists it in one write, and a checkpoint that
/// reaches another instance than the one that recorded is refused, so the caller replays.
/// </summary>
public sealed class MeterCheckpointSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private PipelineNode _node = null!;

    public async Task InitializeAsync() => _node = await PipelineNode.StartAsync();
    public async Task DisposeAsync() => await _node.DisposeAsync();

    private IActorRef Meters => _node.Meters;

    private Task<long> JournalRowsAsync(string meter) => _node.MeterScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = @p", meter);

    private async Task<object> AskUntilAnsweredAsync(object message)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try { return await Meters.Ask<object>(message, TimeSpan.FromSeconds(3)); }
            catch (AskTimeoutException) when (DateTime.UtcNow < deadline) { }
        }
    }

    [Fact]
    public async Task Should_persist_recorded_batches_only_at_the_checkpoint_in_one_write()
    {
        const string meter = "MTR-00000101";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var first = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10))]), Timeout);
        var second = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0.AddSeconds(10)), PipelineNode.Reading(meter, t0.AddSeconds(20))]), Timeout);
        Assert.Equal((2, 0), (first.Accepted, first.Duplicates));
        Assert.Equal((1, 1), (second.Accepted, second.Duplicates));
        Assert.Equal(first.Incarnation, second.Incarnation);
        Assert.Equal(0, await JournalRowsAsync(meter));

        var done = await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, first.Incarnation), Timeout);
        Assert.Equal(1, done.Events);
        Assert.Equal(1, await JournalRowsAsync(meter));
        // Nothing new: the next checkpoint writes nothing.
        Assert.Equal(0, (await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, first.Incarnation), Timeout)).Events);
        Assert.Equal(1, await JournalRowsAsync(meter));
    }

    [Fact]
    public async Task Should_refuse_a_checkpoint_for_readings_a_stopped_instance_held_and_keep_only_what_was_persisted()
    {
        const string meter = "MTR-00000102";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var kept = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0)]), Timeout);
        await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, kept.Incarnation), Timeout);
        var lost = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0.AddSeconds(10))]), Timeout);

        // The instance dies before its checkpoint (as on a crash or a hand-off).
        var shard = MeterMessageExtractor.ShardOf(meter);
        var entity = await _node.App.Services.GetRequiredService<ActorSystem>()
            .ActorSelection($"/system/sharding/{MeterBucket.TypeName}/{shard}/{shard}").ResolveOne(Timeout);
        await entity.GracefulStop(Timeout, PoisonPill.Instance);

        // Until the shard has seen the stop, a message can still go to the dead instance (a timeout,
        // which the consumer also treats as "replay"); then the next instance answers.
        var refused = Assert.IsType<CheckpointRefused>(await AskUntilAnsweredAsync(CheckpointReadings.Of(meter, lost.Incarnation)));
        Assert.NotEqual(lost.Incarnation, refused.Actual);
        var status = await Meters.Ask<MeterStatus>(new GetMeterStatus(meter), Timeout);
        Assert.Equal(1, status.AcceptedTotal);
        // The replay brings the lost reading back, and only it.
        var replayed = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10))]), Timeout);
        Assert.Equal((1, 1), (replayed.Accepted, replayed.Duplicates));
    }

    [Fact]
    public async Task Should_start_over_from_the_journal_when_a_newer_run_replays_what_an_older_run_held_unpersisted()
    {
        const string meter = "MTR-00000103";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var kept = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0)], run: 1), Timeout);
        await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, kept.Incarnation), Timeout);
        // As after a node loss: the instance that took t0+10s died unpersisted, and this one, re-created,
        // took the old run's next batch, ten minutes later, before the new run replays from the commit.
        // (two of them, so the watermark, the second-newest reading, passes t0+10s's window and its lateness).
        var ahead = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter,
            [PipelineNode.Reading(meter, t0.AddMinutes(10)), PipelineNode.Reading(meter, t0.AddMinutes(10).AddSeconds(10))], run: 1), Timeout);
        Assert.Equal(2, ahead.Accepted);

        var replay = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter,
            [PipelineNode.Reading(meter, t0.AddSeconds(10)), PipelineNode.Reading(meter, t0.AddMinutes(10)), PipelineNode.Reading(meter, t0.AddMinutes(10).AddSeconds(10))], run: 2), Timeout);
        Assert.Equal((3, 0, 0), (replay.Accepted, replay.Duplicates, replay.TooLate));
        Assert.NotEqual(ahead.Incarnation, replay.Incarnation);

        // The old run can no longer commit anything: its checkpoint and its late batches are refused.
        Assert.IsType<CheckpointRefused>(await Meters.Ask<object>(CheckpointReadings.Of(meter, ahead.Incarnation), Timeout));
        var late = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0.AddMinutes(11))], run: 1), Timeout);
        Assert.Equal((0, Guid.Empty), (late.Accepted, late.Incarnation));

        await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, replay.Incarnation), Timeout);
        var status = await Meters.Ask<MeterStatus>(new GetMeterStatus(meter), Timeout);
        Assert.Equal((4, 0), (status.AcceptedTotal, status.TooLateTotal));
    }

    [Fact]
    public async Task Should_take_a_newer_run_in_place_when_everything_it_held_is_persisted()
    {
        const string meter = "MTR-00000104";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var first = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0)], run: 1), Timeout);
        await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, first.Incarnation), Timeout);

        var replay = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10))], run: 2), Timeout);
        Assert.Equal((1, 1, first.Incarnation), (replay.Accepted, replay.Duplicates, replay.Incarnation));
    }

    [Fact]
    public async Task Should_take_a_newer_run_in_place_when_nothing_it_replays_would_be_too_late()
    {
        const string meter = "MTR-00000105";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var held = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10))], run: 1), Timeout);

        // Unpersisted readings of run 1, but the replay only repeats them and goes on: no recovery needed.
        var replay = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter,
            [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10)), PipelineNode.Reading(meter, t0.AddSeconds(20))], run: 2), Timeout);
        Assert.Equal((1, 2, 0, held.Incarnation), (replay.Accepted, replay.Duplicates, replay.TooLate, replay.Incarnation));
    }
}
