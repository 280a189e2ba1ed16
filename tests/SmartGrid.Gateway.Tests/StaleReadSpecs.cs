using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Tests;

/// <summary>
/// PostgreSQL really unreachable: a second gateway instance shares the first one's Redis but its
/// database is a port nothing listens on.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class StaleReadSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_serve_the_last_cached_reads_marked_stale_and_refuse_writes_while_postgres_is_down()
    {
        var (user, _, meter, userAccess) = await gateway.UserWithMeterAsync("Nashik");
        var (op, _, operatorAccess) = await gateway.OperatorOfAsync("Nashik");
        using var admin = await gateway.AdminAsync();
        var start = Window.Floor(DateTimeOffset.UtcNow.AddHours(-1), WindowSize.FifteenMinutes);
        await gateway.Storage.Aggregates.UpsertAsync([Scenario.Window15m(meter, "Nashik", start, 0.75)], null);
        var history = $"/api/v1/telemetry/user/history?from={Scenario.Iso(start.AddHours(-1))}&to={Scenario.Iso(start.AddHours(1))}";
        var userReads = new[]
        {
            "/api/v1/tariff/user/current", "/api/v1/tariff/user/history", "/api/v1/telemetry/user/latest", history, "/api/v1/alerts/user",
            "/api/v1/billing/user/invoices",
        };
        var operatorReads = new[] { "/api/v1/grid/regions", "/api/v1/alerts/operator/active?region=Nashik" };

        var fresh = new Dictionary<string, string>();
        foreach (var (client, path) in userReads.Select(p => (user, p)).Concat(operatorReads.Select(p => (op, p))))
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains(DatabaseOutageFilter.StaleHeader));
            fresh[path] = await response.Content.ReadAsStringAsync();
        }

        var nowhere = new NpgsqlConnectionStringBuilder(GatewayFixture.ServerConnectionString)
        {
            Host = "127.0.0.1", Port = UnusedPort(), Database = "unreachable", Timeout = 3,
        };
        var down = StorageServices.Create(nowhere.ConnectionString);
        // A break longer than this spec, so the breaker cannot half-open in between on a slow machine.
        var second = await gateway.StartSecondGatewayAsync(down, settings: new Dictionary<string, string?> { ["SmartGrid:Gateway:DatabaseBreakDuration"] = "00:01:00" });
        using var staleUser = gateway.Client(userAccess, second);
        using var staleOperator = gateway.Client(operatorAccess, second);

        foreach (var (client, path) in userReads.Select(p => (staleUser, p)).Concat(operatorReads.Select(p => (staleOperator, p))))
        {
            var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("true", Assert.Single(response.Headers.GetValues(DatabaseOutageFilter.StaleHeader)));
            var cachedAt = DateTimeOffset.Parse(Assert.Single(response.Headers.GetValues(DatabaseOutageFilter.CachedAtHeader)));
            Assert.InRange(cachedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
            Assert.Equal(fresh[path], await response.Content.ReadAsStringAsync());
        }

        // A read never answered before has nothing to fall back on.
        var uncached = await staleUser.GetAsync("/api/v1/tariff/user/history?limit=3");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, uncached.StatusCode);
        Assert.Equal("application/problem+json", uncached.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(uncached.Headers.RetryAfter);

        // Writes fail at once with 503: after the failures above the breaker is open, so the
        // database is not even tried (no connect attempt to wait for).
        var prefs = await staleUser.PutAsJsonAsync("/api/v1/notifications/user/preferences", new { channels = new[] { "email" } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, prefs.StatusCode);
        Assert.Equal("application/problem+json", prefs.Content.Headers.ContentType?.MediaType);
        Assert.Equal("circuit-open", (await prefs.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("database").GetString());
        using var staleAdmin = gateway.Client((await gateway.LoginDemoAsync(Seeding.DemoAccountSeeder.AdminEmail)).Access, second);
        var overrideWrite = await staleAdmin.PostAsJsonAsync("/api/v1/tariff/admin/override",
            new { region = "Nashik", price_per_kwh = 9m, valid_to = DateTimeOffset.UtcNow.AddHours(1), reason = "outage" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, overrideWrite.StatusCode);
        var login = await gateway.Client(baseAddress: second).PostAsJsonAsync("/api/v1/auth/login",
            new { email = Seeding.DemoAccountSeeder.UserEmail, password = GatewayFixture.DemoPassword });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, login.StatusCode);

        // The healthy instance still answers fresh.
        var healthy = await user.GetAsync("/api/v1/tariff/user/current");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.False(healthy.Headers.Contains(DatabaseOutageFilter.StaleHeader));
    }

    [Fact]
    public async Task Should_keep_only_the_newest_answers_per_user_and_endpoint()
    {
        var (user, id, _, _) = await gateway.UserWithMeterAsync("Nashik");
        for (var limit = 1; limit <= DatabaseOutageFilter.EntriesPerUserAndEndpoint + 4; limit++)
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/api/v1/tariff/user/history?limit={limit}")).StatusCode);

        var index = $"{gateway.RedisPrefix}stale:{{tariff.user.history:{id}}}";
        var server = gateway.Redis.GetServer(gateway.Redis.GetEndPoints()[0]);
        var entries = server.Keys(pattern: index + ":*").Select(k => k.ToString()).ToArray();
        Assert.Equal(DatabaseOutageFilter.EntriesPerUserAndEndpoint, entries.Length);
        var kept = (await gateway.Redis.GetDatabase().SortedSetRangeByRankAsync(index)).Select(v => v.ToString()).ToArray();
        Assert.Equal(entries.Order(), kept.Order());
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
