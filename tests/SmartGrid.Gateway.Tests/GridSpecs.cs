using System.Net;
using System.Net.Http.Json;
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
        // Every meter the suite registered in Nashik reported: complete windows.
        var nashikMeters = (await gateway.Storage.Meters.CountByRegionAsync(["Nashik"])).GetValueOrDefault("Nashik");
        await gateway.Storage.RegionalAggregates.UpsertAsync(
        [
            Regional("Nashik", latest.AddMinutes(-1), 70.0, nashikMeters),
            Regional("Nashik", latest, 87.5, nashikMeters),
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

    [Fact]
    public async Task Should_show_the_newest_complete_window_as_current_load_mark_a_partial_one_and_the_prices_basis()
    {
        using var admin = await gateway.AdminAsync();
        var region = "Satara-" + Guid.NewGuid().ToString("N")[..6];
        await using var retire = await TemporaryRegionAsync(admin, region);
        for (var i = 0; i < 20; i++)
            await gateway.ExecuteAsync("INSERT INTO meters (meter_id, region) VALUES ($1, $2)", Scenario.NewMeterId(), region);
        var latest = Window.Floor(DateTimeOffset.UtcNow.AddMinutes(-3), WindowSize.OneMinute);
        // 20 meters registered: 18 reported is 0.9 (complete at the default share), 17 is not, 1 is the window still filling.
        await gateway.Storage.RegionalAggregates.UpsertAsync(
        [
            Regional(region, latest.AddMinutes(-3), 80, meters: 20),
            Regional(region, latest.AddMinutes(-2), 81, meters: 18),
            Regional(region, latest.AddMinutes(-1), 75, meters: 17),
            Regional(region, latest, 4, meters: 1),
        ], null);

        // The price in force was set by the load of a 15-minute window: its basis is shown beside it.
        var pricedOn = Window.Floor(DateTimeOffset.UtcNow.AddMinutes(-30), WindowSize.FifteenMinutes);
        await gateway.ExecuteAsync(
            """
            INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, source_window_start, load_percent)
            VALUES ($1, $2, 9.60, now() - interval '1 minute', 'load-based', 'system', $3, 84.5)
            """, Guid.NewGuid(), region, pricedOn);

        var (op, _, _) = await gateway.OperatorOfAsync(region);
        var summary = Assert.Single((await (await op.GetAsync("/api/v1/grid/regions")).JsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal(9.60m, summary.GetProperty("price_per_kwh").GetDecimal());
        var basis = summary.GetProperty("price_basis");
        Assert.Equal(("load-based", pricedOn, "15m", 84.5, "high"), (basis.GetProperty("reason").GetString(), basis.GetProperty("window_start").GetDateTimeOffset(),
            basis.GetProperty("window_size").GetString(), basis.GetProperty("load_percentage").GetDouble(), basis.GetProperty("tier").GetString()));
        var load = summary.GetProperty("load");
        Assert.Equal(latest.AddMinutes(-2), load.GetProperty("window_start").GetDateTimeOffset());
        Assert.Equal((81.0, 18, 20, 0.9, true), (load.GetProperty("load_percentage").GetDouble(), load.GetProperty("meters_reported").GetInt32(),
            load.GetProperty("meters_expected").GetInt32(), load.GetProperty("completeness").GetDouble(), load.GetProperty("complete").GetBoolean()));
        var partial = summary.GetProperty("newest_partial");
        Assert.Equal(latest, partial.GetProperty("window_start").GetDateTimeOffset());
        Assert.Equal((1, 20, 0.05, false), (partial.GetProperty("meters_reported").GetInt32(), partial.GetProperty("meters_expected").GetInt32(),
            partial.GetProperty("completeness").GetDouble(), partial.GetProperty("complete").GetBoolean()));

        var windows = (await (await op.GetAsync(
                $"/api/v1/grid/regions/{region}/load?resolution=1m&from={Scenario.Iso(latest.AddMinutes(-3))}&to={Scenario.Iso(latest.AddMinutes(1))}")).JsonAsync())
            .GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal([true, true, false, false], windows.Select(w => w.GetProperty("complete").GetBoolean()));
        Assert.Equal([1.0, 0.9, 0.85, 0.05], windows.Select(w => w.GetProperty("completeness").GetDouble()));
        Assert.All(windows, w => Assert.Equal(20, w.GetProperty("meters_expected").GetInt32()));
        Assert.Equal([20, 18, 17, 1], windows.Select(w => w.GetProperty("meters_reported").GetInt32()));
    }

    [Fact]
    public async Task Should_show_no_current_load_while_every_window_is_partial()
    {
        using var admin = await gateway.AdminAsync();
        var region = "Sangli-" + Guid.NewGuid().ToString("N")[..6];
        await using var retire = await TemporaryRegionAsync(admin, region);
        for (var i = 0; i < 4; i++)
            await gateway.ExecuteAsync("INSERT INTO meters (meter_id, region) VALUES ($1, $2)", Scenario.NewMeterId(), region);
        var latest = Window.Floor(DateTimeOffset.UtcNow.AddMinutes(-3), WindowSize.OneMinute);
        await gateway.Storage.RegionalAggregates.UpsertAsync([Regional(region, latest, 0.5, meters: 1)], null);

        var (op, _, _) = await gateway.OperatorOfAsync(region);
        var summary = Assert.Single((await (await op.GetAsync("/api/v1/grid/regions")).JsonAsync()).GetProperty("items").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("load").ValueKind);
        Assert.Equal(0.25, summary.GetProperty("newest_partial").GetProperty("completeness").GetDouble());
    }

    [Fact]
    public async Task Should_list_a_regions_meters_as_reporting_silent_or_passivated_with_their_newest_window_and_open_anomalies()
    {
        using var admin = await gateway.AdminAsync();
        var region = "Wardha-" + Guid.NewGuid().ToString("N")[..6];
        await using var retire = await TemporaryRegionAsync(admin, region);
        var ids = Enumerable.Range(0, 4).Select(_ => Scenario.NewMeterId()).ToArray();
        foreach (var id in ids)
            await gateway.ExecuteAsync("INSERT INTO meters (meter_id, region) VALUES ($1, $2)", id, region);
        var now = DateTimeOffset.UtcNow;
        // Reporting a minute ago, silent for 4 minutes (its actor still up), silent for 20 (passivated), never heard from.
        await gateway.Storage.Aggregates.UpsertAsync(
            [Window1m(ids[0], region, now.AddMinutes(-1), 2.5), Window1m(ids[0], region, now.AddMinutes(-2), 1.0),
             Window1m(ids[1], region, now.AddMinutes(-4), 3.0), Window1m(ids[2], region, now.AddMinutes(-20), 4.0)], null);
        await gateway.ExecuteAsync(
            """
            INSERT INTO alerts (alert_id, type, severity, region, meter_id, message, status, first_seen_at, last_seen_at)
            VALUES ($1, 'ANOMALY', 'high', $2, $3, 'spike', 'active', now() - interval '10 minutes', now() - interval '5 minutes'),
                   ($4, 'ANOMALY', 'low', $2, $3, 'old dip', 'resolved', now() - interval '3 hours', now() - interval '3 hours')
            """, Guid.NewGuid(), region, ids[0], Guid.NewGuid());

        var (op, _, _) = await gateway.OperatorOfAsync(region);
        var page = await (await op.GetAsync($"/api/v1/grid/regions/{region.ToLowerInvariant()}/meters")).JsonAsync();
        Assert.Equal(4, page.GetProperty("total").GetInt64());
        var meters = page.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(ids, meters.Select(m => m.GetProperty("meter_id").GetString()));
        Assert.Equal(["reporting", "silent", "passivated", "passivated"], meters.Select(m => m.GetProperty("status").GetString()));
        Assert.Equal([2.5, 3.0, 4.0], meters.Take(3).Select(m => m.GetProperty("power_kw_avg").GetDouble()));
        Assert.Equal(JsonValueKind.Null, meters[3].GetProperty("last_window_start").ValueKind);
        Assert.Equal([1, 0, 0, 0], meters.Select(m => m.GetProperty("open_anomalies").GetInt32()));

        var found = await (await op.GetAsync($"/api/v1/grid/regions/{region}/meters?search={ids[2][^4..]}")).JsonAsync();
        Assert.Equal([ids[2]], found.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("meter_id").GetString()));
        var second = await (await op.GetAsync($"/api/v1/grid/regions/{region}/meters?limit=2&offset=2")).JsonAsync();
        Assert.Equal(ids[2..], second.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("meter_id").GetString()));

        // The anomalies of the meter page: the open one and the resolved one within the range, not before it.
        var anomalies = await (await op.GetAsync($"/api/v1/meters/{ids[0]}/anomalies?from={Scenario.Iso(now.AddHours(-6))}&to={Scenario.Iso(now)}")).JsonAsync();
        Assert.Equal(["old dip", "spike"], anomalies.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("message").GetString()));
        var recent = await (await op.GetAsync($"/api/v1/meters/{ids[0]}/anomalies?from={Scenario.Iso(now.AddHours(-1))}&to={Scenario.Iso(now)}")).JsonAsync();
        Assert.Equal(("spike", "high", "active"), Assert.Single(recent.GetProperty("items").EnumerateArray()) is var a
            ? (a.GetProperty("message").GetString(), a.GetProperty("severity").GetString(), a.GetProperty("status").GetString()) : default);
    }

    [Fact]
    public async Task Should_refuse_another_regions_operator_and_bad_input_on_the_meter_list_and_anomalies()
    {
        var (outsider, _, _) = await gateway.OperatorOfAsync("Nashik");
        var meter = Scenario.NewMeterId();
        await gateway.ExecuteAsync("INSERT INTO meters (meter_id, region) VALUES ($1, 'Pune-West')", meter);

        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.GetAsync("/api/v1/grid/regions/Pune-West/meters")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.GetAsync($"/api/v1/meters/{meter}/anomalies")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync("/api/v1/grid/regions/Atlantis/meters")).StatusCode);
        Assert.Contains("letters, digits", await (await outsider.GetAsync("/api/v1/grid/regions/Nashik/meters?search=%27%20OR%201%3D1")).FieldErrorAsync("search"));
        Assert.Contains("integer", await (await outsider.GetAsync("/api/v1/grid/regions/Nashik/meters?limit=0")).FieldErrorAsync("limit"));
        Assert.Contains("before", await (await outsider.GetAsync(
            $"/api/v1/meters/{meter}/anomalies?from={Scenario.Iso(DateTimeOffset.UtcNow)}&to={Scenario.Iso(DateTimeOffset.UtcNow.AddHours(-1))}")).FieldErrorAsync("from"));
        Assert.Contains("MTR-", await (await outsider.GetAsync("/api/v1/meters/nope/anomalies")).FieldErrorAsync("meterId"));

        var (user, _, _, _) = await gateway.UserWithMeterAsync("Nashik");
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/grid/regions/Nashik/meters")).StatusCode);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void Should_refuse_to_start_with_a_complete_window_share_outside_0_to_1(double share)
    {
        var e = Assert.Throws<InvalidOperationException>(() => new GatewayOptions { CompleteWindowShare = share }.Validate(isDevelopment: true));
        Assert.Contains("SmartGrid:Gateway:CompleteWindowShare", e.Message);
    }

    [Fact]
    public void Should_refuse_to_start_when_a_meter_would_pass_for_passivated_before_it_is_silent()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            new GatewayOptions { MeterSilentAfter = TimeSpan.FromMinutes(10), MeterPassivatedAfter = TimeSpan.FromMinutes(5) }.Validate(isDevelopment: true));
        Assert.Contains("SmartGrid:Gateway:MeterPassivatedAfter", e.Message);
        Assert.Contains("SmartGrid:Gateway:MeterSilentAfter",
            Assert.Throws<InvalidOperationException>(() => new GatewayOptions { MeterSilentAfter = TimeSpan.Zero }.Validate(isDevelopment: true)).Message);
    }

    /// <summary>A region of the spec's own, so its meter count is known; retired afterwards, so other specs see the default regions only.</summary>
    private static async Task<IAsyncDisposable> TemporaryRegionAsync(HttpClient admin, string name)
    {
        await (await admin.PostAsJsonAsync("/api/v1/admin/regions", new { name, capacity_kw = 2500 })).JsonAsync(HttpStatusCode.Created);
        return new Retire(admin, name);
    }

    private sealed class Retire(HttpClient admin, string name) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => (await admin.DeleteAsync($"/api/v1/admin/regions/{name}")).EnsureSuccessStatusCode();
    }

    private static WindowAggregate Window1m(string meterId, string region, DateTimeOffset at, double kw) =>
        WindowAggregate.Of(new TelemetryReading { MeterId = meterId, Timestamp = at, Voltage = 231, Current = kw * 1000 / 231, PowerKw = kw, EnergyKwh = kw / 360 },
            WindowSize.OneMinute, region);

    private static RegionalAggregate Regional(string region, DateTimeOffset start, double loadPercent, int meters = 10) => new()
    {
        Region = region, Size = WindowSize.OneMinute, WindowStart = start, MeterCount = meters, TotalPowerKw = loadPercent * 25,
        EnergyKwhSum = loadPercent * 25 / 60, ReadingCount = 60, CapacityKw = 2500, LoadPercent = loadPercent,
    };
}
