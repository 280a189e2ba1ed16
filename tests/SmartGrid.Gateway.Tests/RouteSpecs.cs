using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class RouteSpecs(GatewayFixture gateway)
{
    private static readonly DateTimeOffset Base = Window.Floor(DateTimeOffset.UtcNow.AddDays(-2), WindowSize.FifteenMinutes);

    [Fact]
    public async Task Should_answer_401_without_a_token_and_with_a_tampered_one()
    {
        using var anonymous = gateway.Client();
        var none = await anonymous.GetAsync("/api/v1/telemetry/user/history");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);

        var admin = await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail);
        var parts = admin.Access.Split('.');
        var tampered = $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}";
        using var forged = gateway.Client(tampered);
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/v1/admin/users")).StatusCode);
    }

    [Fact]
    public async Task Should_answer_403_for_the_wrong_role()
    {
        var user = await gateway.LoginDemoAsync(DemoAccountSeeder.UserEmail);
        var op = await gateway.LoginDemoAsync(DemoAccountSeeder.OperatorEmail);
        var admin = await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail);
        using var asUser = gateway.Client(user.Access);
        using var asOperator = gateway.Client(op.Access);
        using var asAdmin = gateway.Client(admin.Access);

        Assert.Equal(HttpStatusCode.Forbidden, (await asUser.GetAsync("/api/v1/meters/MTR-00000001/aggregates")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asUser.GetAsync("/api/v1/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.GetAsync("/api/v1/admin/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.GetAsync("/api/v1/telemetry/user/history")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asAdmin.GetAsync("/api/v1/telemetry/user/latest")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asOperator.GetAsync("/api/v1/meters/MTR-00000001/aggregates")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asAdmin.GetAsync("/api/v1/admin/users?limit=2")).StatusCode);
    }

    [Fact]
    public async Task Should_return_exactly_the_users_own_meter_history()
    {
        var (meterA, meterB) = (NewMeterId(), NewMeterId());
        var admin = gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail)).Access);
        var (email, password, id) = await gateway.NewVerifiedUserAsync();
        var (_, _, otherId) = await gateway.NewVerifiedUserAsync();
        foreach (var (meter, owner) in new[] { (meterA, id), (meterB, otherId) })
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meter, region = "Pune-West" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/admin/meters/{meter}/assignment", new { user_id = owner })).StatusCode);
        }
        var mine = new[] { TestWindow(meterA, Base, 1.5), TestWindow(meterA, Base.AddMinutes(15), 2.5), TestWindow(meterA, Base.AddMinutes(30), 3.5) };
        await gateway.Storage.Aggregates.UpsertAsync([.. mine, TestWindow(meterB, Base, 9), TestWindow(meterB, Base.AddMinutes(15), 9)], null);

        using var client = gateway.Client((await gateway.LoginAsync(email, password)).Access);
        var range = $"from={Base.AddHours(-1):O}&to={Base.AddHours(1):O}".Replace("+", "%2B");
        var history = await client.GetFromJsonAsync<JsonElement>($"/api/v1/telemetry/user/history?resolution=15m&{range}");
        var items = history.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(meterA, history.GetProperty("meter_id").GetString());
        Assert.Equal(mine.Select(w => w.WindowStart), items.Select(i => i.GetProperty("window_start").GetDateTimeOffset()));
        Assert.All(items, i => Assert.Equal(meterA, i.GetProperty("meter_id").GetString()));
        Assert.Equal(mine.Select(w => w.PowerKwAvg), items.Select(i => i.GetProperty("power_kw_avg").GetDouble()));
        Assert.Equal(JsonValueKind.Null, history.GetProperty("next_from").ValueKind);

        // Paging: two per page, the cursor leads to the third.
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/telemetry/user/history?resolution=15m&limit=2&{range}");
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        Assert.Equal(mine[2].WindowStart, page.GetProperty("next_from").GetDateTimeOffset());

        // Another user's meter is not reachable (IDOR), it answers like a missing one.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/telemetry/user/history?meter_id={meterB}&{range}")).StatusCode);

        var latest = await client.GetFromJsonAsync<JsonElement>("/api/v1/telemetry/user/latest");
        Assert.Equal(mine[2].WindowStart, latest.GetProperty("latest_15m").GetProperty("window_start").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, latest.GetProperty("latest_1m").ValueKind);
    }

    [Fact]
    public async Task Should_name_the_field_of_invalid_query_parameters()
    {
        using var client = gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.UserEmail)).Access);
        var badTime = await client.GetAsync("/api/v1/telemetry/user/history?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, badTime.StatusCode);
        Assert.Contains("ISO-8601", await AuthSpecs.ErrorOf(badTime, "from"));

        var noZone = await client.GetAsync("/api/v1/telemetry/user/history?to=2026-01-01T00:00:00");
        Assert.Contains("zone", await AuthSpecs.ErrorOf(noZone, "to"));

        var resolution = await client.GetAsync("/api/v1/telemetry/user/history?resolution=5m");
        Assert.Contains("1m or 15m", await AuthSpecs.ErrorOf(resolution, "resolution"));

        var reversed = await client.GetAsync("/api/v1/telemetry/user/history?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z");
        Assert.Contains("before", await AuthSpecs.ErrorOf(reversed, "from"));

        var limit = await client.GetAsync("/api/v1/telemetry/user/history?limit=0");
        Assert.Contains("integer", await AuthSpecs.ErrorOf(limit, "limit"));

        using var admin = gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail)).Access);
        var injection = await admin.GetAsync("/api/v1/meters/x'%3B%20DROP%20TABLE%20users--/aggregates");
        Assert.Equal(HttpStatusCode.BadRequest, injection.StatusCode);
        Assert.True((await injection.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("meterId", out _));
    }

    [Fact]
    public async Task Should_limit_operators_to_their_regions()
    {
        using var admin = gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail)).Access);
        var (email, password, id) = await gateway.NewVerifiedUserAsync();
        var promote = await admin.PutAsJsonAsync($"/api/v1/admin/users/{id}/role", new { role = "OPERATOR", operator_regions = new[] { "Nashik" } });
        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        var nashikMeter = NewMeterId();
        await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = nashikMeter, region = "Nashik" });
        await gateway.Storage.RegionalAggregates.UpsertAsync([new RegionalAggregate
        {
            Region = "Nashik", Size = WindowSize.FifteenMinutes, WindowStart = Base, MeterCount = 3, TotalPowerKw = 30,
            EnergyKwhSum = 7.5, ReadingCount = 270, CapacityKw = 2500, LoadPercent = 1.2,
        }], null);

        using var op = gateway.Client((await gateway.LoginAsync(email, password)).Access);
        var range = $"from={Base.AddHours(-1):O}&to={Base.AddHours(1):O}".Replace("+", "%2B");
        var load = await op.GetFromJsonAsync<JsonElement>($"/api/v1/grid/regions/Nashik/load?{range}");
        Assert.Equal(Base, Assert.Single(load.GetProperty("items").EnumerateArray()).GetProperty("window_start").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync($"/api/v1/grid/regions/Pune-West/load?{range}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.GetAsync("/api/v1/grid/regions/Atlantis/load")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync($"/api/v1/meters/{nashikMeter}/aggregates")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync("/api/v1/meters/MTR-00000001/aggregates")).StatusCode);
    }

    [Fact]
    public async Task Should_ask_the_meter_actor_for_status_and_answer_504_when_it_is_silent()
    {
        using var admin = gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail)).Access);
        var status = await admin.GetFromJsonAsync<JsonElement>("/api/v1/meters/MTR-00000001/status");
        Assert.Equal("MTR-00000001", status.GetProperty("meter_id").GetString());
        Assert.Equal(42, status.GetProperty("accepted_total").GetInt64());

        await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = GatewayFixture.SilentMeter, region = "Pune-West" });
        var silent = await admin.GetAsync($"/api/v1/meters/{GatewayFixture.SilentMeter}/status");
        Assert.Equal(HttpStatusCode.GatewayTimeout, silent.StatusCode);
        Assert.Equal("application/problem+json", silent.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/meters/MTR-55555555/status")).StatusCode);
    }

    [Fact]
    public async Task Should_manage_meters_and_roles_as_admin()
    {
        using var admin = gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail)).Access);
        var meter = NewMeterId();
        var (_, _, first) = await gateway.NewVerifiedUserAsync();
        var (_, _, second) = await gateway.NewVerifiedUserAsync();

        var badRegion = await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meter, region = "Atlantis" });
        Assert.Contains("must be one of", await AuthSpecs.ErrorOf(badRegion, "region"));
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meter, region = "Pune-West" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meter, region = "Pune-West" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/admin/meters/{meter}/assignment", new { user_id = first })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/admin/meters/{meter}/assignment", new { user_id = first })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/api/v1/admin/meters/{meter}/assignment", new { user_id = second })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/admin/meters/{meter}/assignment")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/v1/admin/meters/{meter}/assignment")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/admin/meters/{meter}/assignment", new { user_id = second })).StatusCode);

        var badRole = await admin.PutAsJsonAsync($"/api/v1/admin/users/{first}/role", new { role = "ROOT" });
        Assert.Contains("must be one of", await AuthSpecs.ErrorOf(badRole, "role"));
        var regionsForUser = await admin.PutAsJsonAsync($"/api/v1/admin/users/{first}/role", new { role = "USER", operator_regions = new[] { "Nashik" } });
        Assert.Equal(HttpStatusCode.BadRequest, regionsForUser.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PutAsJsonAsync($"/api/v1/admin/users/{Guid.NewGuid()}/role", new { role = "ADMIN" })).StatusCode);

        var page = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/users?limit=2&offset=1");
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        Assert.True(page.GetProperty("total").GetInt64() >= 5);
    }

    [Fact]
    public async Task Should_seed_demo_accounts_idempotently()
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand(
            """
            SELECT count(*) FROM meter_user_assignments a JOIN users u ON u.id = a.user_id
            WHERE u.email = 'user@smartgrid.local' AND a.meter_id = 'MTR-00000001' AND a.unassigned_at IS NULL
            """);
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
        Assert.Equal("Mumbai-Central", await gateway.Storage.Meters.GetRegionAsync("MTR-00000001"));
    }

    private static int _nextMeter = 20_000_000;

    /// <summary>Meter ids no other test (nor the demo meter, nor the silent one) uses.</summary>
    private static string NewMeterId() => $"MTR-{Interlocked.Increment(ref _nextMeter):D8}";

    private static WindowAggregate TestWindow(string meterId, DateTimeOffset start, double powerKw) =>
        WindowAggregate.Of(new TelemetryReading
        {
            MeterId = meterId, Timestamp = start.AddSeconds(5), Voltage = 230, Current = 10, PowerKw = powerKw, EnergyKwh = powerKw / 360,
        }, WindowSize.FifteenMinutes, "Pune-West");
}
