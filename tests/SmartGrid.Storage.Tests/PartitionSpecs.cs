using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage.Tests;

public sealed class PartitionSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset Now = new(2030, 6, 15, 12, 30, 0, TimeSpan.Zero);

    private PartitionMaintenance Partitions => db.Storage.Partitions;

    [Fact]
    public async Task Should_create_one_partition_per_day_for_a_range_and_none_twice()
    {
        var from = new DateTimeOffset(2031, 3, 1, 18, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(2031, 3, 4, 1, 0, 0, TimeSpan.Zero);

        var created = await Partitions.EnsurePartitionsAsync(TimeSeriesTable.Aggregates15m, from, to);
        var again = await new PartitionMaintenance(db.Storage.DataSource)
            .EnsurePartitionsAsync(TimeSeriesTable.Aggregates15m, from, to);

        Assert.Equal(4, created);
        Assert.Equal(0, again);
        var partitions = (await Partitions.ListPartitionsAsync(TimeSeriesTable.Aggregates15m))
            .Where(p => p.From.Year == 2031).ToList();
        Assert.Equal(
            ["aggregates_15m_p20310301", "aggregates_15m_p20310302", "aggregates_15m_p20310303", "aggregates_15m_p20310304"],
            partitions.Select(p => p.Name));
        Assert.All(partitions, p => Assert.Equal(TimeSpan.FromDays(1), p.To - p.From));
        Assert.Equal(new DateTimeOffset(2031, 3, 1, 0, 0, 0, TimeSpan.Zero), partitions[0].From);
        // The bounds PostgreSQL enforces are the ones the names promise.
        Assert.Equal("FOR VALUES FROM ('2031-03-02 00:00:00+00') TO ('2031-03-03 00:00:00+00')",
            await db.ScalarAsync<string>(
                "SET TIME ZONE 'UTC'; SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'aggregates_15m_p20310302'"));
    }

    [Fact]
    public async Task Should_cover_every_table_from_retention_back_to_two_days_ahead_at_startup()
    {
        await Partitions.EnsureStartupRangeAsync(Now);

        foreach (var table in TimeSeriesTable.All)
        {
            var days = (await Partitions.ListPartitionsAsync(table)).Select(p => p.From).ToHashSet();
            for (var t = Now - table.Retention; t <= Now + TimeSpan.FromDays(2); t += TimeSpan.FromDays(1))
                Assert.Contains(new DateTimeOffset(t.UtcDateTime.Date, TimeSpan.Zero), days);
        }
    }

    [Fact]
    public async Task Should_create_partitions_on_demand_for_an_old_and_a_future_reading()
    {
        var old = new DateTimeOffset(2001, 2, 3, 23, 59, 59, TimeSpan.Zero);
        var future = new DateTimeOffset(2099, 12, 31, 0, 0, 1, TimeSpan.Zero);

        var inserted = await db.Storage.RawReadings.InsertAsync([Reading("MTR-OLD", old), Reading("MTR-NEW", future)]);

        Assert.Equal(2, inserted);
        var names = (await Partitions.ListPartitionsAsync(TimeSeriesTable.RawReadings)).Select(p => p.Name).ToList();
        Assert.Contains("raw_readings_p20010203", names);
        Assert.Contains("raw_readings_p20991231", names);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM raw_readings_p20010203 WHERE meter_id = 'MTR-OLD'"));
    }

    [Fact]
    public async Task Should_drop_only_partitions_wholly_past_retention_and_keep_rows_inside_it()
    {
        // raw_readings keeps 7 days: at Now the cutoff is 2030-06-08 12:30, inside the partition of 06-08.
        var cutoff = Now - TimeSeriesTable.RawReadings.Retention;
        var expiredRow = Reading("MTR-RET", cutoff - TimeSpan.FromHours(13));   // 06-07 23:30, partition 06-07
        var sameDayExpired = Reading("MTR-RET", cutoff - TimeSpan.FromMinutes(1)); // 06-08 12:29, past retention
        var keptRow = Reading("MTR-RET", cutoff + TimeSpan.FromMinutes(1));        // 06-08 12:31
        await db.Storage.RawReadings.InsertAsync([expiredRow, sameDayExpired, keptRow]);
        await Partitions.EnsurePartitionsAsync(TimeSeriesTable.Aggregates1m, Now - TimeSpan.FromDays(32), Now);

        var dropped = await Partitions.DropExpiredAsync(Now);

        var droppedRaw = dropped.Where(p => p.Table == "raw_readings").Select(p => p.Name).ToList();
        Assert.Contains("raw_readings_p20300607", droppedRaw);
        Assert.DoesNotContain("raw_readings_p20300608", droppedRaw);
        Assert.All(dropped, p => Assert.True(p.To <= Now - RetentionOf(p.Table), $"{p.Name} was not wholly expired"));
        // aggregates_1m keeps 30 days: cutoff 2030-05-16 12:30.
        Assert.Contains("aggregates_1m_p20300514", dropped.Select(p => p.Name));
        Assert.Contains("aggregates_1m_p20300515", dropped.Select(p => p.Name));     // ends 05-16 00:00
        Assert.DoesNotContain("aggregates_1m_p20300516", dropped.Select(p => p.Name)); // holds the 1m cutoff

        var remaining = await db.Storage.Queries.GetRawReadingsAsync("MTR-RET", Now.AddDays(-30), Now);
        Assert.Equal([sameDayExpired.Timestamp, keptRow.Timestamp], remaining.Select(r => r.Timestamp));
        Assert.Empty(await Partitions.DropExpiredAsync(Now));
    }

    [Fact]
    public async Task Should_recreate_a_partition_dropped_by_another_process_when_a_writer_needs_it()
    {
        var day = new DateTimeOffset(2040, 1, 10, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal(1, await db.Storage.RawReadings.InsertAsync([Reading("MTR-GONE", day)]));

        // Another node's retention job drops it: this process's cache still believes in it.
        var other = new PartitionMaintenance(db.Storage.DataSource);
        var dropped = await other.DropExpiredAsync(day + TimeSpan.FromDays(9));
        Assert.Contains("raw_readings_p20400110", dropped.Select(p => p.Name));

        var inserted = await db.Storage.RawReadings.InsertAsync([Reading("MTR-GONE", day.AddMinutes(1))]);

        Assert.Equal(1, inserted);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM raw_readings_p20400110"));
    }

    [Fact]
    public async Task Should_create_the_same_partitions_from_many_processes_at_once_without_error()
    {
        var from = new DateTimeOffset(2035, 5, 1, 0, 0, 0, TimeSpan.Zero);
        var to = from.AddDays(9);

        var created = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
            new PartitionMaintenance(db.Storage.DataSource).EnsurePartitionsAsync(TimeSeriesTable.RegionalAggregates1m, from, to))));

        Assert.Equal(10, created.Sum());
        Assert.Equal(10, (await Partitions.ListPartitionsAsync(TimeSeriesTable.RegionalAggregates1m)).Count(p => p.From.Year == 2035));
    }

    private static TimeSpan RetentionOf(string table) => TimeSeriesTable.All.Single(t => t.Name == table).Retention;

    private static TelemetryReading Reading(string meterId, DateTimeOffset ts) => new()
    {
        MeterId = meterId,
        Timestamp = ts,
        Voltage = 230,
        Current = 10,
        PowerKw = 2.3,
        EnergyKwh = 0.006,
        PowerFactor = 0.98,
        Frequency = 50,
        Region = "Nashik",
    };
}
