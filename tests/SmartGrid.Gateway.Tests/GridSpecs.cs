using System.Net;
using System.Text.Json;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class GridSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_summarise_load_price_and_open_alerts_of_the_operators_regions()
    {
        var latest = Window.Floor(DateTimeOffset.UtcNow.AddMinutes(-5), WindowSize.OneMinute);
        await gateway.Storage.RegionalAggregates.UpsertAsync(
        [
            Regional("Nashik", latest.AddMinutes(-1), 70.0),
            Regional("Nashik", latest, 87.5),
        ], null);
        var redis = gateway.Redis.GetDatabase();
        await redis.StringSetAsync(gateway.Keys.AlertCount("Nashik"), 7, TimeSpan.FromMinutes(5));
        await redis.KeyDeleteAsync(gateway.Keys.AlertCount("Mumbai-Central"));
        await gateway.ExecuteAsync(
            """
            INSERT INTO alerts (alert_id, type, severity, region, meter_id, message, status, first_seen_at, last_seen_at)
            VALUES ($1, 'ANOMALY', 'low', 'Mumbai-Central', $2, 'spec', 'active', now(), now())
            """, Guid.NewGuid(), Scenario.NewMeterId());

        var (op, _, _) = await gateway.OperatorOfAsync("Nashik");
        var regions = (await (await op.GetAsync("/api/v1/grid/regions")).JsonAsync()).GetProperty("items").EnumerateArray().ToArray();
        var nashik = Assert.Single(regions);
        Assert.Equal("Nashik", nashik.GetProperty("region").GetString());
        Assert.Equal(87.5, nashik.GetProperty("load").GetProperty("load_percentage").GetDouble());
        Assert.Equal(latest, nashik.GetProperty("load").GetProperty("window_start").GetDateTimeOffset());
        Assert.True(nashik.GetProperty("price_per_kwh").GetDecimal() > 0);
        Assert.Equal((7L, "cache"), (nashik.GetProperty("open_alerts").GetInt64(), nashik.GetProperty("alert_count_source").GetString()));

        using var admin = await gateway.AdminAsync();
        var all = (await (await admin.GetAsync("/api/v1/grid/regions")).JsonAsync()).GetProperty("items").EnumerateArray()
            .ToDictionary(r => r.GetProperty("region").GetString()!);
        Assert.Equal(Regions.Defaults.Select(r => r.Name).Order(), all.Keys.Order());
        var mumbai = all["Mumbai-Central"];
        Assert.Equal("database", mumbai.GetProperty("alert_count_source").GetString());
        Assert.True(mumbai.GetProperty("open_alerts").GetInt64() >= 1);

        var (user, _, _, _) = await gateway.UserWithMeterAsync("Nashik");
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/grid/regions")).StatusCode);
    }

    [Fact]
    public async Task Should_read_a_regions_1m_load_and_validate_the_range()
    {
        var (op, _, _) = await gateway.OperatorOfAsync("Mumbai-North");
        var start = Window.Floor(DateTimeOffset.UtcNow.AddHours(-3), WindowSize.OneMinute);
        await gateway.Storage.RegionalAggregates.UpsertAsync([Regional("Mumbai-North", start, 55), Regional("Mumbai-North", start.AddMinutes(1), 56)], null);

        var load = await (await op.GetAsync(
            $"/api/v1/grid/regions/Mumbai-North/load?resolution=1m&from={Scenario.Iso(start)}&to={Scenario.Iso(start.AddMinutes(2))}")).JsonAsync();
        Assert.Equal([55.0, 56.0], load.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("load_percentage").GetDouble()));
        Assert.Contains("1 day", await (await op.GetAsync(
            $"/api/v1/grid/regions/Mumbai-North/load?resolution=1m&from={Scenario.Iso(start.AddDays(-3))}&to={Scenario.Iso(start)}")).FieldErrorAsync("from"));
    }

    private static RegionalAggregate Regional(string region, DateTimeOffset start, double loadPercent) => new()
    {
        Region = region, Size = WindowSize.OneMinute, WindowStart = start, MeterCount = 10, TotalPowerKw = loadPercent * 25,
        EnergyKwhSum = loadPercent * 25 / 60, ReadingCount = 60, CapacityKw = 2500, LoadPercent = loadPercent,
    };
}
