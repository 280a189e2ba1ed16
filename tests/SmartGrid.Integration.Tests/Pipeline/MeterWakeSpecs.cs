using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// Meters are not remembered entities, yet a meter whose node stopped while it held persisted but
/// unpublished windows still publishes them without a reading to start it (MeterWake).
/// </summary>
public sealed class MeterWakeSpecs
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_publish_the_windows_a_silent_meter_held_when_its_node_stopped_without_a_reading_to_start_it()
    {
        await using var database = await TestDatabase.CreateAsync("sg_wake");
        const string meter = "MTR-00000501";
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        const string published = "SELECT coalesce(sum(reading_count), 0) FROM aggregates_1m WHERE meter_id = @p";

        // First life: the readings are in the journal, their window open (idle close an hour away).
        await using (var first = await PipelineNode.StartOnAsync(database, "processor", "--SmartGrid:Pipeline:IdleClose=01:00:00"))
        {
            var recorded = await first.Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10))]), Timeout);
            await first.Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, recorded.Incarnation), Timeout);
            Assert.Equal(0, await first.ScalarAsync(published, meter));
        }

        // Second life: nothing is sent to the meter, and no entity is remembered; its window must still be published. The wake
        // waits idle close + checkpoint + batch interval for the stream first, then the meter its idle close: 5 s keeps both short.
        await using var second = await PipelineNode.StartOnAsync(database, "processor", "--SmartGrid:Pipeline:PassivateAfter=00:00:01",
            "--SmartGrid:Pipeline:IdleClose=00:00:05");
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long count;
        while ((count = await second.ScalarAsync(published, meter)) < 2 && DateTime.UtcNow < until)
            await Task.Delay(250);
        Assert.Equal(2, count);
        // Then it leaves memory again: waking it did not pin it there.
        Assert.True(await second.WaitUntilPassivatedAsync(meter, Timeout), "the woken meter did not passivate");
    }

    [Fact]
    public async Task Should_find_only_the_meters_that_went_silent_at_the_journals_newest_write_not_those_written_since()
    {
        await using var database = await TestDatabase.CreateAsync("sg_wake_silent");
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        string[] meters = ["MTR-00000601", "MTR-00000602", "MTR-00000603"];
        // An idle close of an hour: the node's own wake settles that long, so only this spec's query looks.
        await using var node = await PipelineNode.StartOnAsync(database, "processor", "--SmartGrid:Pipeline:IdleClose=01:00:00");
        foreach (var meter in meters)
            await RecordAsync(node, meter, t0);
        var journal = new JournalRecency(node.App.Services.GetRequiredService<Npgsql.NpgsqlDataSource>());
        var moment = await journal.NewestWriteAsync(MeterBucket.PersistenceIdPrefix);
        Assert.NotNull(moment);

        // The first meter reports again after the moment, as the restarted stream's backlog would make it: it is alive.
        await RecordAsync(node, meters[0], t0.AddSeconds(20));

        var silent = await journal.SilentSinceAsync(MeterBucket.PersistenceIdPrefix, moment.Value, TimeSpan.FromMinutes(5));
        Assert.Equal(meters[1..].Select(m => MeterBucket.PersistenceIdPrefix + m), silent.Order());
    }

    private static async Task RecordAsync(PipelineNode node, string meter, DateTimeOffset at)
    {
        var recorded = await node.Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, at)]), Timeout);
        await node.Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, recorded.Incarnation), Timeout);
    }
}
