using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Common;
using SmartGrid.Services.Tariffs;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class TariffSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_read_the_current_tariff_from_postgres_on_a_miss_cache_it_and_then_answer_from_redis()
    {
        const string region = "Nashik";
        var redis = gateway.Redis.GetDatabase();
        var key = gateway.Keys.Tariff(region);
        await redis.KeyDeleteAsync(key);
        var (client, _, meter, _) = await gateway.UserWithMeterAsync(region);

        var fromDb = await (await client.GetAsync("/api/v1/tariff/user/current")).JsonAsync();
        Assert.Equal("database", fromDb.GetProperty("source").GetString());
        Assert.Equal(meter, fromDb.GetProperty("meter_id").GetString());
        Assert.Equal(region, fromDb.GetProperty("region").GetString());
        Assert.Equal(8.00m, fromDb.GetProperty("price_per_kwh").GetDecimal());
        Assert.Equal("base", fromDb.GetProperty("reason").GetString());

        // Cached in the TariffManager's key and format, with a TTL.
        var cached = WireJson.Deserialize<CachedTariff>((await redis.StringGetAsync(key)).ToString());
        Assert.Equal((region, 8.00m, fromDb.GetProperty("tariff_id").GetGuid()), (cached.Region, cached.PricePerKwh, cached.TariffId));
        Assert.InRange((await redis.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromHours(23), TimeSpan.FromHours(24));

        // What the cache says wins: it is what the TariffManager keeps current.
        await redis.StringSetAsync(key, WireJson.Serialize(cached with { PricePerKwh = 9.35m, Reason = "load-based" }), TimeSpan.FromMinutes(5));
        var fromCache = await (await client.GetAsync("/api/v1/tariff/user/current")).JsonAsync();
        Assert.Equal(("cache", 9.35m), (fromCache.GetProperty("source").GetString(), fromCache.GetProperty("price_per_kwh").GetDecimal()));
        await redis.KeyDeleteAsync(key);
    }

    [Fact]
    public async Task Should_read_an_operated_regions_price_history_and_refuse_another_regions_operator()
    {
        const string region = "Pune-West";
        var now = DateTimeOffset.UtcNow;
        // Prices of this spec's own (four decimals), so other specs' rows in the range do not count.
        decimal[] prices = [7.7731m, 8.8731m];
        foreach (var (minutesAgo, price) in new[] { (50, prices[0]), (40, prices[1]) })
        {
            await gateway.ExecuteAsync(
                """
                INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, published_at)
                VALUES ($1, $2, $3, $4, 'load-based', 'system', now())
                """, Guid.NewGuid(), region, price, now.AddMinutes(-minutesAgo));
        }
        var range = $"from={Scenario.Iso(now.AddMinutes(-55))}&to={Scenario.Iso(now.AddMinutes(-35))}";

        var (op, _, _) = await gateway.OperatorOfAsync(region);
        var history = await (await op.GetAsync($"/api/v1/tariff/operator/history?region=pune-west&{range}")).JsonAsync();
        Assert.Equal(region, history.GetProperty("region").GetString());
        Assert.Equal([prices[1], prices[0]], history.GetProperty("items").EnumerateArray()
            .Select(i => i.GetProperty("price_per_kwh").GetDecimal()).Where(prices.Contains));

        // The attacker: an operator of another region asks for this one's prices.
        var (outsider, _, _) = await gateway.OperatorOfAsync("Nashik");
        var refused = await outsider.GetAsync($"/api/v1/tariff/operator/history?region={region}&{range}");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.DoesNotContain("8.8731", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("required", await (await outsider.GetAsync("/api/v1/tariff/operator/history")).FieldErrorAsync("region"));
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync("/api/v1/tariff/operator/history?region=Atlantis")).StatusCode);
        var (user, _, _, _) = await gateway.UserWithMeterAsync(region);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync($"/api/v1/tariff/operator/history?region={region}")).StatusCode);
    }

    [Fact]
    public async Task Should_page_the_price_history_of_the_users_region_newest_first()
    {
        const string region = "Mumbai-Central";
        var (client, _, _, _) = await gateway.UserWithMeterAsync(region);
        var now = DateTimeOffset.UtcNow;
        foreach (var (hoursAgo, price) in new[] { (3, 8.80m), (2, 9.60m), (1, 10.80m) })
        {
            await gateway.ExecuteAsync(
                """
                INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, published_at)
                VALUES ($1, $2, $3, $4, 'load-based', 'system', now())
                """, Guid.NewGuid(), region, price, now.AddHours(-hoursAgo));
        }

        var first = await (await client.GetAsync("/api/v1/tariff/user/history?limit=2")).JsonAsync();
        Assert.Equal([10.80m, 9.60m], first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("price_per_kwh").GetDecimal()));
        Assert.Equal(3, first.GetProperty("total").GetInt64()); // the 2024 base rate is outside the default 30 days
        var second = await (await client.GetAsync("/api/v1/tariff/user/history?limit=2&offset=2")).JsonAsync();
        Assert.Equal(8.80m, Assert.Single(second.GetProperty("items").EnumerateArray()).GetProperty("price_per_kwh").GetDecimal());
        var all = await (await client.GetAsync($"/api/v1/tariff/user/history?from={Scenario.Iso(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero))}&to={Scenario.Iso(now.AddDays(1))}")).JsonAsync();
        Assert.Equal(4, all.GetProperty("total").GetInt64());

        Assert.Contains("integer", await (await client.GetAsync("/api/v1/tariff/user/history?limit=0")).FieldErrorAsync("limit"));
        Assert.Contains("before", await (await client.GetAsync("/api/v1/tariff/user/history?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")).FieldErrorAsync("from"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/tariff/user/current?meter_id=MTR-00000001")).StatusCode);
    }

    [Fact]
    public async Task Should_store_and_publish_an_override_that_the_tariff_manager_applies_once_and_lift_it()
    {
        const string region = "Mumbai-North";
        using var admin = await gateway.AdminAsync();
        var (user, _, _, _) = await gateway.UserWithMeterAsync(region);
        var validTo = DateTimeOffset.UtcNow.AddHours(2);

        var created = await (await admin.PostAsJsonAsync("/api/v1/tariff/admin/override",
            new { region, price_per_kwh = 12.5m, valid_to = validTo, reason = "heat wave" })).JsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("override_id").GetGuid();
        Assert.True(created.GetProperty("published").GetBoolean());

        // Published on tariff_overrides in the TariffManager's format, keyed by region.
        var message = await ReadOverrideMessageAsync(m => m.OverrideId == id);
        Assert.Equal((region, 12.5m, (decimal?)null, "heat wave", "create"), (message.Region, message.PricePerKwh, message.Percentage, message.Reason, message.Action));

        // The TariffManager consumed it: the price in force is the override's (and the row it
        // received from the gateway and the message counted once).
        await Scenario.EventuallyAsync(async () =>
            (await (await user.GetAsync("/api/v1/tariff/user/current")).JsonAsync()).GetProperty("price_per_kwh").GetDecimal() == 12.5m,
            "the override's price in force");
        var current = await (await user.GetAsync("/api/v1/tariff/user/current")).JsonAsync();
        Assert.Equal("admin-override", current.GetProperty("reason").GetString());
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM tariff_overrides WHERE override_id = $1", id));
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM tariffs WHERE override_id = $1", id));

        var listed = await (await admin.GetAsync($"/api/v1/tariff/admin/overrides?region={region}")).JsonAsync();
        Assert.Contains(id, listed.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("override_id").GetGuid()));
        Assert.Contains("current or all", await (await admin.GetAsync("/api/v1/tariff/admin/overrides?status=old")).FieldErrorAsync("status"));

        var lifted = await (await admin.DeleteAsync($"/api/v1/tariff/admin/override/{id}")).JsonAsync();
        Assert.NotEqual(JsonValueKind.Null, lifted.GetProperty("lifted_at").ValueKind);
        Assert.Equal("lift", (await ReadOverrideMessageAsync(m => m.OverrideId == id && m.Action == "lift")).Action);
        await Scenario.EventuallyAsync(async () =>
            (await (await user.GetAsync("/api/v1/tariff/user/current")).JsonAsync()).GetProperty("price_per_kwh").GetDecimal() == 8.00m,
            "the base price back in force after the lift");
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/v1/tariff/admin/override/{id}")).StatusCode);
        var inForce = await (await admin.GetAsync($"/api/v1/tariff/admin/overrides?region={region}")).JsonAsync();
        Assert.DoesNotContain(id, inForce.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("override_id").GetGuid()));
        var all = await (await admin.GetAsync($"/api/v1/tariff/admin/overrides?region={region}&status=all")).JsonAsync();
        Assert.Contains(id, all.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("override_id").GetGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/v1/tariff/admin/override/{Guid.NewGuid()}")).StatusCode);
        Assert.Contains("UUID", await (await admin.DeleteAsync("/api/v1/tariff/admin/override/not-a-uuid")).FieldErrorAsync("overrideId"));
    }

    [Fact]
    public async Task Should_validate_overrides_and_allow_only_admins()
    {
        using var admin = await gateway.AdminAsync();
        var to = DateTimeOffset.UtcNow.AddHours(1);
        async Task<HttpResponseMessage> Post(object body) => await admin.PostAsJsonAsync("/api/v1/tariff/admin/override", body);

        Assert.Contains("not both", await (await Post(new { region = "Nashik", price_per_kwh = 9m, percentage = 10m, valid_to = to, reason = "r" })).FieldErrorAsync("percentage"));
        Assert.Contains("either", await (await Post(new { region = "Nashik", valid_to = to, reason = "r" })).FieldErrorAsync("price_per_kwh"));
        Assert.Contains("must be one of", await (await Post(new { region = "Atlantis", price_per_kwh = 9m, valid_to = to, reason = "r" })).FieldErrorAsync("region"));
        Assert.Contains("after valid_from", await (await Post(new { region = "Nashik", price_per_kwh = 9m, valid_from = to, valid_to = to.AddHours(-2), reason = "r" })).FieldErrorAsync("valid_to"));
        Assert.Contains("past", await (await Post(new { region = "Nashik", price_per_kwh = 9m, valid_from = to.AddDays(-2), valid_to = to, reason = "r" })).FieldErrorAsync("valid_from"));
        Assert.Contains("from 0", await (await Post(new { region = "Nashik", price_per_kwh = -1m, valid_to = to, reason = "r" })).FieldErrorAsync("price_per_kwh"));
        Assert.Contains("zone", await (await Post(new { region = "Nashik", price_per_kwh = 9m, valid_to = "2030-01-01T00:00:00", reason = "r" })).FieldErrorAsync("valid_to"));
        Assert.Contains("required", await (await Post(new { region = "Nashik", price_per_kwh = 9m, valid_to = to })).FieldErrorAsync("reason"));

        var (asUser, _, _, _) = await gateway.UserWithMeterAsync("Nashik");
        var (asOperator, _, _) = await gateway.OperatorOfAsync("Nashik");
        var valid = new { region = "Nashik", price_per_kwh = 9m, valid_to = to, reason = "r" };
        Assert.Equal(HttpStatusCode.Forbidden, (await asUser.PostAsJsonAsync("/api/v1/tariff/admin/override", valid)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.PostAsJsonAsync("/api/v1/tariff/admin/override", valid)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.GetAsync("/api/v1/tariff/user/current")).StatusCode);
    }

    private async Task<long> ScalarAsync(string sql, Guid id)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<TariffOverrideMessage> ReadOverrideMessageAsync(Func<TariffOverrideMessage, bool> match)
    {
        var (key, message) = await gateway.ReadTopicAsync(Topics.TariffOverrides, WireJson.Deserialize<TariffOverrideMessage>, match);
        Assert.Equal(message.Region, key);
        return message;
    }
}
