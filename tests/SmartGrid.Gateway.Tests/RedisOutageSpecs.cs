using System.Net;
using System.Net.Http.Json;
using SmartGrid.Gateway.Seeding;
using SmartGrid.Services.Hosting;
using SmartGrid.Storage;
using SmartGrid.Testing;

namespace SmartGrid.Gateway.Tests;

/// <summary>
/// A gateway on a Redis of its own (a redis-server process this spec starts), connected the way the node connects
/// (<see cref="RedisConnection"/>); the server is then killed, or frozen with its connections open. Logins, cached reads and revocation keep answering
/// correctly from PostgreSQL, and rate limits and the failed-login throttle keep limiting, counted in the gateway's process.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RedisOutageSpecs(GatewayFixture gateway)
{
    /// <param name="outage">killed: the connection drops (commands fail at once); paused: it stays open and nothing answers (commands time out).</param>
    [Theory]
    [InlineData("killed")]
    [InlineData("paused")]
    public async Task Should_answer_correctly_and_keep_limiting_with_redis_gone(string outage)
    {
        using var server = await RedisServer.StartAsync();
        await using var redis = (StackExchange.Redis.ConnectionMultiplexer)RedisConnection.Connect(server.ConnectionString);
        var address = await gateway.StartSecondGatewayAsync(gateway.Storage, redis: redis,
            settings: new Dictionary<string, string?> { ["SmartGrid:Gateway:RedisKeyPrefix"] = "" });
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        using var anonymous = gateway.Client(baseAddress: address);
        var admin = await LoginAsync(anonymous, DemoAccountSeeder.AdminEmail, GatewayFixture.DemoPassword);
        using var adminClient = gateway.Client(admin, address);
        var regionsBefore = await (await adminClient.GetAsync("/api/v1/grid/regions")).JsonAsync();
        var loggedOut = await LoginAsync(anonymous, email, password);
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Client(loggedOut, address).PostAsync("/api/v1/auth/logout", null)).StatusCode);

        if (outage == "killed")
            await server.StopAsync();
        else
            await server.PauseAsync();

        // Logins and reads answer as before, from PostgreSQL.
        var user = await LoginAsync(anonymous, email, password);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "wrong-password-123" })).StatusCode);
        var regionsAfter = await (await adminClient.GetAsync("/api/v1/grid/regions")).JsonAsync();
        Assert.Equal(Names(regionsBefore), Names(regionsAfter));
        // A token of an ended session stays refused: the revocation check falls back to PostgreSQL.
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client(loggedOut, address).GetAsync("/api/v1/notifications/user/preferences")).StatusCode);

        // Failed logins still make the failing address wait (the throttle does not fail open), and only that address.
        var victim = await gateway.NewVerifiedUserAsync();
        using var attacker = gateway.ClientFrom("127.0.0.5", address);
        for (var i = 0; i < GatewayFixture.FreeLoginFailures + 1; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized,
                (await attacker.PostAsJsonAsync("/api/v1/auth/login", new { email = victim.Email, password = $"Guess-Number-{i:D4}" })).StatusCode);
        }
        var waiting = await attacker.PostAsJsonAsync("/api/v1/auth/login", new { email = victim.Email, password = victim.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, waiting.StatusCode);
        Assert.True(waiting.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        using var owner = gateway.ClientFrom("127.0.0.6", address);
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsJsonAsync("/api/v1/auth/login", new { email = victim.Email, password = victim.Password })).StatusCode);

        // The per-user limit still holds, counted in this gateway.
        using var client = gateway.Client(user, address);
        for (var i = 0; i < GatewayFixture.RateLimit; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/notifications/user/preferences")).StatusCode);
        var limited = await client.GetAsync("/api/v1/notifications/user/preferences");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    private static async Task<string> LoginAsync(HttpClient client, string email, string password)
    {
        var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password });
        return (await response.JsonAsync()).GetProperty("access_token").GetString()!;
    }

    /// <summary>Each region with its open alerts and price: what an operator reads off the overview.</summary>
    private static List<string> Names(System.Text.Json.JsonElement regions) =>
        regions.GetProperty("items").EnumerateArray()
            .Select(r => $"{r.GetProperty("region").GetString()} {r.GetProperty("open_alerts").GetInt64()} {r.GetProperty("price_per_kwh")}")
            .Order().ToList();
}
