using Npgsql;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Storage.Tests.TestData;

namespace SmartGrid.Storage.Tests;

public sealed class AggregateStoreSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset T0 = new(2030, 2, 1, 10, 0, 0, TimeSpan.Zero);

    private AggregateStore Store => db.Storage.Aggregates;
    private AggregateQueries Queries => db.Storage.Queries;

    [Fact]
    public async Task Should_insert_a_window_then_replace_it_with_its_late_update_without_duplicating()
    {
        var early = Window("MTR-U1", WindowSize.OneMinute, T0, 2.0, 4.0);
        var late = Window("MTR-U1", WindowSize.OneMinute, T0, 2.0, 4.0, 9.0);

        await Store.UpsertAsync([early], null);
        var afterFirst = await Queries.GetMeterAggregatesAsync("MTR-U1", WindowSize.OneMinute, T0, T0.AddHours(1));
        await Store.UpsertAsync([late], null);
        var afterLate = await Queries.GetMeterAggregatesAsync("MTR-U1", WindowSize.OneMinute, T0, T0.AddHours(1));

        Assert.Equal(early, Assert.Single(afterFirst));
        var row = Assert.Single(afterLate);
        Assert.Equal(late, row);
        Assert.Equal(3, row.ReadingCount);
        Assert.Equal(5.0, row.PowerKwAvg, 12);
        Assert.Equal(9.0, row.PowerKwMax);
        // The seed's columns are stored too, consistent with the sums.
        Assert.Equal("2030-02-01 10:01:00+00 5 0.9 2",
            await db.ScalarAsync<string>(
                "SET TIME ZONE 'UTC'; SELECT window_end::text || ' ' || power_kw_avg || ' ' || power_factor_avg || ' ' || power_factor_count " +
                "FROM aggregates_1m WHERE meter_id = 'MTR-U1'"));
    }

    [Fact]
    public async Task Should_write_each_size_to_its_own_table()
    {
        var oneMinute = Window("MTR-S1", WindowSize.OneMinute, T0.AddMinutes(1), 1.0);
        var fifteen = Window("MTR-S1", WindowSize.FifteenMinutes, T0, 1.0, 3.0);

        await Store.UpsertAsync([oneMinute, fifteen], null);

        Assert.Equal([oneMinute], await Queries.GetMeterAggregatesAsync("MTR-S1", WindowSize.OneMinute, T0, T0.AddHours(1)));
        Assert.Equal([fifteen], await Queries.GetMeterAggregatesAsync("MTR-S1", WindowSize.FifteenMinutes, T0, T0.AddHours(1)));
    }

    [Fact]
    public async Task Should_keep_the_last_version_when_one_batch_carries_a_window_twice()
    {
        var v1 = Window("MTR-D1", WindowSize.FifteenMinutes, T0, 1.0);
        var v2 = Window("MTR-D1", WindowSize.FifteenMinutes, T0, 1.0, 2.0);

        await Store.UpsertAsync([v1, v2], new ProjectionCheckpoint("dup-projection", 2));

        Assert.Equal([v2], await Queries.GetMeterAggregatesAsync("MTR-D1", WindowSize.FifteenMinutes, T0, T0.AddHours(1)));
    }

    [Fact]
    public async Task Should_skip_empty_windows_but_still_store_the_checkpoint()
    {
        var empty = WindowAggregate.Empty("MTR-E1", "Nashik", WindowSize.OneMinute, T0);

        await Store.UpsertAsync([empty], new ProjectionCheckpoint("empty-windows", 7));

        Assert.Empty(await Queries.GetMeterAggregatesAsync("MTR-E1", WindowSize.OneMinute, T0, T0.AddHours(1)));
        Assert.Equal(7, await db.Storage.Offsets.LoadAsync("empty-windows"));
    }

    [Fact]
    public async Task Should_store_the_checkpoint_with_the_rows()
    {
        Assert.Equal(0, await db.Storage.Offsets.LoadAsync("meter-windows"));

        await Store.UpsertAsync([Window("MTR-C1", WindowSize.OneMinute, T0, 1.0)], new ProjectionCheckpoint("meter-windows", 41));
        await Store.UpsertAsync([Window("MTR-C1", WindowSize.OneMinute, T0.AddMinutes(1), 1.0)], new ProjectionCheckpoint("meter-windows", 57));

        Assert.Equal(57, await db.Storage.Offsets.LoadAsync("meter-windows"));
        Assert.Equal(2, (await Queries.GetMeterAggregatesAsync("MTR-C1", WindowSize.OneMinute, T0, T0.AddHours(1))).Count);
    }

    [Fact]
    public async Task Should_store_neither_rows_nor_checkpoint_when_the_batch_fails_midway()
    {
        await Store.UpsertAsync([Window("MTR-F1", WindowSize.OneMinute, T0, 1.0)], new ProjectionCheckpoint("failing", 10));
        var good1m = Window("MTR-F1", WindowSize.OneMinute, T0, 1.0, 5.0);         // replaces the stored row...
        var new1m = Window("MTR-F2", WindowSize.OneMinute, T0, 7.0);               // ...and adds one
        var broken15m = Window("MTR-F1", WindowSize.FifteenMinutes, T0, 1.0) with { PowerKwMin = 9, PowerKwMax = 1 }; // violates a CHECK

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            Store.UpsertAsync([good1m, new1m, broken15m], new ProjectionCheckpoint("failing", 20)));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal("aggregates_15m_power_check", error.ConstraintName);
        Assert.Equal(10, await db.Storage.Offsets.LoadAsync("failing"));
        var rows = await Queries.GetAllMeterAggregatesAsync(WindowSize.OneMinute, T0, T0.AddMinutes(1));
        Assert.Equal([Window("MTR-F1", WindowSize.OneMinute, T0, 1.0)], rows.Where(r => r.MeterId.StartsWith("MTR-F", StringComparison.Ordinal)));
        Assert.Empty(await Queries.GetMeterAggregatesAsync("MTR-F1", WindowSize.FifteenMinutes, T0, T0.AddHours(1)));
    }

    [Fact]
    public async Task Should_store_neither_rows_nor_checkpoint_when_cancelled_after_the_rows_were_written()
    {
        await Store.UpsertAsync([], new ProjectionCheckpoint("cancelled", 5));

        // Another session holds the offset row: the batch writes its rows, then blocks on the offset.
        await using var blocker = await db.Storage.DataSource.OpenConnectionAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("SELECT 1 FROM projection_offsets WHERE projection_id = 'cancelled' FOR UPDATE", blocker, tx))
            await hold.ExecuteNonQueryAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Store.UpsertAsync([Window("MTR-X1", WindowSize.OneMinute, T0, 1.0)], new ProjectionCheckpoint("cancelled", 6), cts.Token));
        await tx.RollbackAsync();

        Assert.Equal(5, await db.Storage.Offsets.LoadAsync("cancelled"));
        Assert.Empty(await Queries.GetMeterAggregatesAsync("MTR-X1", WindowSize.OneMinute, T0, T0.AddHours(1)));
    }

    [Fact]
    public async Task Should_never_move_a_stored_offset_backwards()
    {
        await Store.UpsertAsync([], new ProjectionCheckpoint("monotonic", 100));
        await Store.UpsertAsync([Window("MTR-M1", WindowSize.OneMinute, T0, 1.0)], new ProjectionCheckpoint("monotonic", 90));

        Assert.Equal(100, await db.Storage.Offsets.LoadAsync("monotonic"));
    }

    [Fact]
    public async Task Should_return_a_meter_range_in_window_order_up_to_the_limit()
    {
        var windows = Enumerable.Range(0, 10)
            .Select(i => Window("MTR-Q1", WindowSize.OneMinute, T0.AddDays(3).AddMinutes(9 - i), i + 1.0))
            .ToList();
        await Store.UpsertAsync(windows, null);

        var page = await Queries.GetMeterAggregatesAsync("MTR-Q1", WindowSize.OneMinute, T0.AddDays(3).AddMinutes(2), T0.AddDays(3).AddMinutes(8), limit: 4);

        Assert.Equal(
            [T0.AddDays(3).AddMinutes(2), T0.AddDays(3).AddMinutes(3), T0.AddDays(3).AddMinutes(4), T0.AddDays(3).AddMinutes(5)],
            page.Select(w => w.WindowStart));
        Assert.Equal(8.0, page[0].PowerKwMax);
    }

    [Fact]
    public async Task Should_write_windows_spanning_several_days_in_one_batch()
    {
        var start = new DateTimeOffset(2030, 3, 1, 23, 45, 0, TimeSpan.Zero);
        var windows = Enumerable.Range(0, 200)
            .Select(i => Window($"MTR-B{i % 20:D2}", WindowSize.FifteenMinutes, start.AddMinutes(15 * (i / 20)), 1.0 + i))
            .ToList();

        await Store.UpsertAsync(windows, new ProjectionCheckpoint("bulk", 200));

        var stored = await Queries.GetAllMeterAggregatesAsync(WindowSize.FifteenMinutes, start, start.AddDays(1));
        Assert.Equal(200, stored.Count(w => w.MeterId.StartsWith("MTR-B", StringComparison.Ordinal)));
        Assert.Equal(200, await db.Storage.Offsets.LoadAsync("bulk"));
        Assert.Equal(20L, await db.ScalarAsync<long>("SELECT count(*) FROM aggregates_15m_p20300301 WHERE meter_id LIKE 'MTR-B%'"));
    }
}
