using Akka.Actor;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// An idle meter leaves memory once a snapshot covers its last event, and its next reading brings it
/// back from that one row with everything it knew; one that holds unpersisted readings stays.
/// </summary>
public sealed class MeterPassivationSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private PipelineNode _node = null!;

    public async Task InitializeAsync() => _node = await PipelineNode.StartAsync("processor", "--SmartGrid:Pipeline:PassivateAfter=00:00:01");
    public async Task DisposeAsync() => await _node.DisposeAsync();

    private IActorRef Meters => _node.Meters;

    private Task<long> ScalarAsync(string sql, string meter) => _node.MeterScalarAsync(sql, meter);
    private Task<bool> LiveAsync(string meter) => _node.IsLiveAsync(meter);

    [Fact]
    public async Task Should_passivate_an_idle_meter_after_a_snapshot_and_bring_it_back_from_that_row_alone()
    {
        const string meter = "MTR-00000401";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var first = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [.. Enumerable.Range(0, 9).Select(i => PipelineNode.Reading(meter, t0.AddSeconds(10 * i)))]), Timeout);
        await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, first.Incarnation), Timeout);

        // Idle: its open windows close (2 s), then it snapshots and passivates (1 s without messages).
        Assert.True(await LiveAsync(meter));
        Assert.True(await _node.WaitUntilPassivatedAsync(meter, Timeout), "the idle meter did not passivate");
        var events = await ScalarAsync("SELECT coalesce(max(sequence_number), 0) FROM journal WHERE persistence_id = @p", meter);
        Assert.True(events >= 2, $"the idle meter published nothing ({events} events)");
        Assert.Equal(events, await ScalarAsync("SELECT coalesce(max(sequence_number), 0) FROM snapshot WHERE persistence_id = @p", meter));

        // Whoever asks next finds it loaded again from the snapshot: nothing forgotten, nothing counted twice. Its bucket
        // lived on with nothing lost, so it answers as the same incarnation.
        var again = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0.AddSeconds(80)), PipelineNode.Reading(meter, t0.AddSeconds(90))]), Timeout);
        Assert.Equal((1, 1, first.Incarnation), (again.Accepted, again.Duplicates, again.Incarnation));
        Assert.True(await LiveAsync(meter));
        var status = await Meters.Ask<MeterStatus>(new GetMeterStatus(meter), Timeout);
        Assert.Equal(10, status.AcceptedTotal);
        Assert.Equal(events, await ScalarAsync("SELECT coalesce(max(sequence_number), 0) FROM journal WHERE persistence_id = @p", meter));
    }

    [Fact]
    public async Task Should_keep_a_meter_with_unpersisted_readings_until_its_checkpoint()
    {
        const string meter = "MTR-00000402";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        var recorded = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0)]), Timeout);

        // Twice the passivation time and past the idle close: it must still be there.
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.True(await LiveAsync(meter));

        // Still the same instance: its checkpoint is accepted, with the reading in the journal (the idle close wrote it).
        Assert.IsType<ReadingsCheckpointed>(await Meters.Ask<object>(CheckpointReadings.Of(meter, recorded.Incarnation), Timeout));
        Assert.True(await ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = @p", meter) >= 1);
        Assert.Equal(1, (await Meters.Ask<MeterStatus>(new GetMeterStatus(meter), Timeout)).AcceptedTotal);

        // Checkpointed and idle, it goes.
        Assert.True(await _node.WaitUntilPassivatedAsync(meter, Timeout), "the checkpointed idle meter did not passivate");
    }
}
