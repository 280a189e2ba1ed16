using System.Text.Json;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Projections;
using SmartGrid.Actors.Regional;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// The journal loses what nobody reads again: a meter's events behind its snapshot and behind both
/// projections' stored offsets. What a projection has not read, and what no snapshot covers, stays;
/// the windows still reach their tables, and a meter recovered from the cleaned journal is the one it was.
/// </summary>
public sealed class JournalCleanupSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private PipelineNode _node = null!;

    // Passivation after 1 s writes the snapshot that covers a meter's last event. The node's own pass
    // runs at start (nothing to delete yet) and then not for an hour: each spec decides when one runs.
    public async Task InitializeAsync() => _node = await PipelineNode.StartAsync("processor",
        "--SmartGrid:Pipeline:PassivateAfter=00:00:01", "--SmartGrid:Pipeline:JournalCleanupInterval=01:00:00");
    public async Task DisposeAsync() => await _node.DisposeAsync();

    private IActorRef Meters => _node.Meters;
    private JournalCleanup NodeCleanup => _node.App.Services.GetRequiredService<JournalCleanup>();
    private ProjectionOffsets Offsets => _node.App.Services.GetRequiredService<ProjectionOffsets>();

    [Fact]
    public async Task Should_delete_events_behind_the_snapshot_and_the_projections_offsets_and_recover_the_same_state()
    {
        const string meter = "MTR-00000501";
        var t0 = await ReportAndFallSilentAsync(meter);
        var last = await _node.MeterScalarAsync("SELECT max(sequence_number) FROM journal WHERE persistence_id = @p", meter);
        var before = await StatusJsonAsync(meter);
        Assert.True(await _node.WaitUntilPassivatedAsync(meter, Patience), "the woken meter did not passivate again");

        var result = await NodeCleanup.RunOnceAsync();

        Assert.True(result.EventsDeleted >= last - 1, $"{result.EventsDeleted} event(s) deleted of {last}");
        // Only the newest event stays: the journal's highest sequence number lives in its rows.
        Assert.Equal(1, await _node.MeterScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = @p", meter));
        Assert.Equal(last, await _node.MeterScalarAsync("SELECT max(sequence_number) FROM journal WHERE persistence_id = @p", meter));
        Assert.Equal(before, await StatusJsonAsync(meter));

        // The recovered meter still knows what it has seen, and numbers its next event after its last.
        var again = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddMinutes(3))]), Timeout);
        Assert.Equal((1, 1), (again.Accepted, again.Duplicates));
        await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, again.Incarnation), Timeout);
        Assert.Equal(last + 1, await _node.MeterScalarAsync($"SELECT min(sequence_number) FROM journal WHERE persistence_id = @p AND sequence_number > {last}", meter));
    }

    [Fact]
    public async Task Should_keep_events_a_projection_has_not_read_and_events_no_snapshot_covers()
    {
        const string meter = "MTR-00000502";
        await ReportAndFallSilentAsync(meter);
        var orderings = await OrderingsAsync(meter);
        Assert.True(orderings.Count >= 3, $"{orderings.Count} events");
        var dataSource = _node.App.Services.GetRequiredService<NpgsqlDataSource>();
        var withLaggingReader = new JournalCleanup(dataSource,
            [WindowProjection.ProjectionId, RegionalProjection.ProjectionId, "lagging-reader"], [MeterBucket.PersistenceIdPrefix]);

        // A reader that has stored no offset has read nothing.
        Assert.Equal(0, (await withLaggingReader.RunOnceAsync()).EventsDeleted);
        Assert.Equal(orderings, await OrderingsAsync(meter));

        // One that has read up to just before the meter's events keeps them all.
        await Offsets.StoreAsync(new ProjectionCheckpoint("lagging-reader", orderings[0] - 1));
        Assert.Equal(0, (await withLaggingReader.RunOnceAsync()).EventsDeleted);
        Assert.Equal(orderings, await OrderingsAsync(meter));

        // Once it has read two of them, those two go and the rest stay.
        await Offsets.StoreAsync(new ProjectionCheckpoint("lagging-reader", orderings[1]));
        Assert.Equal(2, (await withLaggingReader.RunOnceAsync()).EventsDeleted);
        Assert.Equal(orderings.Skip(2).ToList(), await OrderingsAsync(meter));

        // The region's events the regional projection has passed have no snapshot yet (one every 1,000 events): they stay.
        const string region = RegionActor.PersistenceIdPrefix + "Nashik";
        var regionOnly = new JournalCleanup(dataSource, [RegionalProjection.ProjectionId], [RegionActor.PersistenceIdPrefix]);
        Assert.Equal(0, await _node.ScalarAsync("SELECT count(*) FROM snapshot WHERE persistence_id = @p", region));
        var regionEvents = await _node.ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = @p", region);
        var firstRegionEvent = await _node.ScalarAsync("SELECT min(ordering) FROM journal WHERE persistence_id = @p", region);
        await WaitUntilProjectionsPassAsync(firstRegionEvent + 1, RegionalProjection.ProjectionId);
        var result = await regionOnly.RunOnceAsync();
        Assert.True(result.Cutoff > firstRegionEvent, $"cutoff {result.Cutoff}: the spec proves nothing");
        Assert.Equal(regionEvents, await _node.ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = @p", region));
    }

    [Fact]
    public async Task Should_delete_snapshots_a_newer_one_supersedes()
    {
        const string meter = "MTR-00000503";
        await ReportAndFallSilentAsync(meter);
        // What a crash between saving a snapshot and deleting the older one leaves behind.
        await _node.MeterScalarAsync(
            """
            CREATE TEMP TABLE older AS SELECT * FROM snapshot WHERE persistence_id = @p;
            UPDATE older SET sequence_number = sequence_number - 1;
            INSERT INTO snapshot SELECT * FROM older;
            SELECT count(*) FROM snapshot WHERE persistence_id = @p;
            """, meter);
        var newest = await _node.MeterScalarAsync("SELECT max(sequence_number) FROM snapshot WHERE persistence_id = @p", meter);
        Assert.Equal(2, await _node.MeterScalarAsync("SELECT count(*) FROM snapshot WHERE persistence_id = @p", meter));

        Assert.True((await NodeCleanup.RunOnceAsync()).SnapshotsDeleted >= 1);

        Assert.Equal(1, await _node.MeterScalarAsync("SELECT count(*) FROM snapshot WHERE persistence_id = @p", meter));
        Assert.Equal(newest, await _node.MeterScalarAsync("SELECT max(sequence_number) FROM snapshot WHERE persistence_id = @p", meter));
    }

    /// <summary>
    /// Three minutes of readings in two checkpoints, then silence: the windows close and reach their
    /// tables, the meter passivates behind a snapshot of its last event, and both projections pass its events.
    /// </summary>
    private async Task<DateTimeOffset> ReportAndFallSilentAsync(string meter)
    {
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        foreach (var (from, to) in new[] { (0, 6), (6, 18) })
        {
            var recorded = await Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter,
                [.. Enumerable.Range(from, to - from).Select(i => PipelineNode.Reading(meter, t0.AddSeconds(10 * i)))]), Timeout);
            await Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, recorded.Incarnation), Timeout);
        }
        Assert.True(await _node.WaitUntilPassivatedAsync(meter, Patience), "the idle meter did not passivate");
        Assert.Equal(await _node.MeterScalarAsync("SELECT max(sequence_number) FROM journal WHERE persistence_id = @p", meter),
            await _node.MeterScalarAsync("SELECT max(sequence_number) FROM snapshot WHERE persistence_id = @p", meter));

        await WaitUntilProjectionsPassAsync(await _node.MeterScalarAsync("SELECT max(ordering) FROM journal WHERE persistence_id = @p", meter));
        Assert.Equal(3, await _node.ScalarAsync("SELECT count(*) FROM aggregates_1m WHERE meter_id = @p", meter));
        return t0;
    }

    private async Task WaitUntilProjectionsPassAsync(long ordering, params string[] projections)
    {
        if (projections.Length == 0) projections = [WindowProjection.ProjectionId, RegionalProjection.ProjectionId];
        var until = DateTime.UtcNow + Patience;
        while ((await Task.WhenAll(projections.Select(p => Offsets.LoadAsync(p)))).Min() < ordering)
        {
            Assert.True(DateTime.UtcNow < until, $"the projections did not pass ordering {ordering}");
            await Task.Delay(250);
        }
    }

    private async Task<List<long>> OrderingsAsync(string meter)
    {
        await using var connection = new NpgsqlConnection(_node.Database.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT ordering FROM journal WHERE persistence_id = @p ORDER BY ordering", connection);
        cmd.Parameters.AddWithValue("p", MeterBucket.PersistenceIdPrefix + meter);
        var orderings = new List<long>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) orderings.Add(reader.GetInt64(0));
        return orderings;
    }

    /// <summary>Everything the meter reports about itself (asking wakes a passivated one, recovered from the journal).</summary>
    private async Task<string> StatusJsonAsync(string meter) =>
        JsonSerializer.Serialize(await Meters.Ask<MeterStatus>(new GetMeterStatus(meter), Timeout));
}

/// <summary>The pipeline's settings fail start-up loudly rather than deleting the wrong rows, never running, or flapping in their group.</summary>
public sealed class JournalCleanupSettingsSpecs
{
    [Theory]
    [InlineData("JournalCleanupInterval", "00:00:00")]
    [InlineData("JournalCleanupInterval", "-00:00:01")]
    // Twice the 1 s Kafka heartbeat at least: a shorter session drops a member between two heartbeats.
    [InlineData("ConsumerSessionTimeout", "00:00:01.999")]
    [InlineData("ConsumerSessionTimeout", "00:00:00")]
    public void Should_refuse_a_pipeline_interval_out_of_range_naming_the_key(string setting, string value)
    {
        var options = new SmartGrid.Node.SmartGridOptions();
        typeof(SmartGrid.Actors.Hosting.PipelineSettings).GetProperty(setting)!
            .SetValue(options.Pipeline, TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        var error = Assert.Throws<InvalidOperationException>(() => options.Validate("Host=127.0.0.1"));
        Assert.Contains($"SmartGrid:Pipeline:{setting}", error.Message);
    }

    [Fact]
    public async Task Should_refuse_a_persistence_id_prefix_that_would_match_more_than_it_says()
    {
        await using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1");
        Assert.Throws<ArgumentException>(() => new JournalCleanup(dataSource, [WindowProjection.ProjectionId], ["meter_"]));
        Assert.Throws<ArgumentException>(() => new JournalCleanup(dataSource, [], [MeterBucket.PersistenceIdPrefix]));
    }
}
