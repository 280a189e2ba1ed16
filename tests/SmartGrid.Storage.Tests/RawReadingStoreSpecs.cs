using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage.Tests;

public sealed class RawReadingStoreSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 15, 14, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task Should_store_a_resent_reading_once()
    {
        var a = Reading("MTR-A", T0);
        var b = Reading("MTR-A", T0.AddSeconds(10));
        var c = Reading("MTR-B", T0);

        var first = await db.Storage.RawReadings.InsertAsync([a, b, c, a with { PowerKw = 99 }]);
        var resent = await db.Storage.RawReadings.InsertAsync([b with { PowerKw = 42 }, c]);

        Assert.Equal(3, first);
        Assert.Equal(0, resent);
        var stored = await db.Storage.Queries.GetRawReadingsAsync("MTR-A", T0, T0.AddMinutes(1));
        Assert.Equal([2.35, 2.35], stored.Select(r => r.PowerKw)); // the first copy wins, nothing overwritten
        Assert.Equal(3L, await db.ScalarAsync<long>("SELECT count(*) FROM raw_readings WHERE meter_id IN ('MTR-A', 'MTR-B')"));
    }

    [Fact]
    public async Task Should_round_trip_every_field_and_stamp_ingestion_time_when_missing()
    {
        var withOptionals = Reading("MTR-RT", T0.AddHours(1)) with { IngestedAt = T0.AddHours(1).AddSeconds(2) };
        var bare = Reading("MTR-RT", T0.AddHours(1).AddSeconds(10)) with
        {
            PowerFactor = null, Frequency = null, Region = null, IngestedAt = null,
        };
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);

        await db.Storage.RawReadings.InsertAsync([withOptionals, bare]);

        var stored = await db.Storage.Queries.GetRawReadingsAsync("MTR-RT", T0, T0.AddDays(1));
        Assert.Equal(2, stored.Count);
        Assert.Equal(withOptionals, stored[0]);
        Assert.Equal(bare with { IngestedAt = stored[1].IngestedAt }, stored[1]);
        Assert.InRange(stored[1].IngestedAt!.Value, before, DateTimeOffset.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task Should_store_timestamps_given_in_any_offset_as_the_same_instant()
    {
        var local = new DateTimeOffset(2030, 1, 16, 20, 0, 0, TimeSpan.FromHours(5.5));

        Assert.Equal(1, await db.Storage.RawReadings.InsertAsync([Reading("MTR-TZ", local)]));
        Assert.Equal(0, await db.Storage.RawReadings.InsertAsync([Reading("MTR-TZ", local.ToUniversalTime())]));

        var stored = Assert.Single(await db.Storage.Queries.GetRawReadingsAsync("MTR-TZ", T0, T0.AddDays(2)));
        Assert.Equal(local.UtcDateTime, stored.Timestamp.UtcDateTime);
    }

    private static TelemetryReading Reading(string meterId, DateTimeOffset ts) => new()
    {
        MeterId = meterId,
        Timestamp = ts,
        Voltage = 230.5,
        Current = 10.2,
        PowerKw = 2.35,
        EnergyKwh = 0.59,
        PowerFactor = 0.98,
        Frequency = 50.0,
        Region = "Mumbai-Central",
    };
}
