using Npgsql;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Storage.Tests.TestData;

namespace SmartGrid.Storage.Tests;

public sealed class RegionalAggregateStoreSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset T0 = new(2030, 4, 1, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Should_upsert_regional_windows_by_size_and_replace_a_later_version()
    {
        var store = db.Storage.RegionalAggregates;
        await store.UpsertAsync(
            [Regional("Nashik", WindowSize.FifteenMinutes, T0, 10, 500), Regional("Nashik", WindowSize.OneMinute, T0, 10, 480)],
            new ProjectionCheckpoint("regional", 3));
        var late = Regional("Nashik", WindowSize.FifteenMinutes, T0, 11, 560);

        await store.UpsertAsync([late], new ProjectionCheckpoint("regional", 4));

        Assert.Equal([late], await db.Storage.Queries.GetRegionalLoadAsync("Nashik", WindowSize.FifteenMinutes, T0, T0.AddHours(1)));
        Assert.Equal(
            [Regional("Nashik", WindowSize.OneMinute, T0, 10, 480)],
            await db.Storage.Queries.GetRegionalLoadAsync("Nashik", WindowSize.OneMinute, T0, T0.AddHours(1)));
        Assert.Equal(4, await db.Storage.Offsets.LoadAsync("regional"));
    }

    [Fact]
    public async Task Should_store_neither_regional_rows_nor_checkpoint_when_a_row_is_invalid()
    {
        var store = db.Storage.RegionalAggregates;
        var good = Regional("Pune-West", WindowSize.FifteenMinutes, T0, 3, 30);
        var broken = Regional("Pune-West", WindowSize.FifteenMinutes, T0.AddMinutes(15), 3, 30) with { MeterCount = -1 };

        var error = await Assert.ThrowsAsync<PostgresException>(() =>
            store.UpsertAsync([good, broken], new ProjectionCheckpoint("regional-failing", 9)));

        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Empty(await db.Storage.Queries.GetRegionalLoadAsync("Pune-West", WindowSize.FifteenMinutes, T0, T0.AddHours(1)));
        Assert.Equal(0, await db.Storage.Offsets.LoadAsync("regional-failing"));
    }
}
