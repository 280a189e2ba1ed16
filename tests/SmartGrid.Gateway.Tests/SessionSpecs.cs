using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Tests;

/// <summary>Ending a session ends every access token issued in it, at once (issue 12, finding 2).</summary>
[Collection(GatewayCollection.Name)]
public sealed class SessionSpecs(GatewayFixture gateway)
{
    private const string OwnRoute = "/api/v1/notifications/user/preferences";

    [Fact]
    public async Task Should_refuse_both_access_tokens_of_a_session_once_refresh_token_reuse_is_detected()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        var first = await gateway.LoginAsync(email, password);
        var second = await RefreshAsync(first.Refresh);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(first.Access));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(second.Access));

        // A thief replays the first refresh token: the session is revoked, with every token of it.
        using var anonymous = gateway.Client();
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first.Refresh })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first.Access));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(second.Access));
        // Another session of the same user is not touched.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync((await gateway.LoginAsync(email, password)).Access));
    }

    [Fact]
    public async Task Should_refuse_an_earlier_access_token_of_the_session_after_logout()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        var first = await gateway.LoginAsync(email, password);
        var second = await RefreshAsync(first.Refresh);

        using (var client = gateway.Client(second.Access))
            Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/logout", null)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first.Access));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(second.Access));
        var keys = gateway.Redis.GetServer(gateway.Redis.GetEndPoints()[0]).Keys(pattern: gateway.RedisPrefix + "revoked:session:*").ToArray();
        Assert.NotEmpty(keys);
        // Kept as long as an access token can live (15 min + skew), no longer.
        Assert.True(await gateway.Redis.GetDatabase().KeyTimeToLiveAsync(keys[0]) is { } ttl && ttl > TimeSpan.Zero && ttl <= TimeSpan.FromMinutes(16));
    }

    [Fact]
    public async Task Should_refuse_a_demoted_operators_old_token_on_operator_routes_at_once()
    {
        var (op, id, access) = await gateway.OperatorOfAsync("Nashik");
        using var _ = op;
        Assert.Equal(HttpStatusCode.OK, (await op.GetAsync("/api/v1/grid/regions")).StatusCode);

        using var admin = await gateway.AdminAsync();
        Assert.Equal(HttpStatusCode.OK,
            (await admin.PutAsJsonAsync($"/api/v1/admin/users/{id}/role", new { role = "USER" })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await op.GetAsync("/api/v1/grid/regions")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(access));
    }

    [Fact]
    public async Task Should_end_every_session_of_the_account_when_its_password_changes()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        var stolen = await gateway.LoginAsync(email, password);
        var own = await gateway.LoginAsync(email, password);
        using var client = gateway.Client(own.Access);

        Assert.Contains("is wrong", await (await client.PostAsJsonAsync("/api/v1/auth/password",
            new { current_password = "Not-The-Password-1", new_password = "violet tractor under lemons" })).FieldErrorAsync("current_password"));
        Assert.Contains("common", await (await client.PostAsJsonAsync("/api/v1/auth/password",
            new { current_password = password, new_password = "Password1234" })).FieldErrorAsync("new_password"));
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/v1/auth/password",
            new { current_password = password, new_password = "violet tractor under lemons" })).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(stolen.Access));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(own.Access));
        using var anonymous = gateway.Client();
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = stolen.Refresh })).StatusCode);
        await gateway.LoginAsync(email, "violet tractor under lemons");
    }

    [Fact]
    public async Task Should_end_every_session_of_a_disabled_user_and_refuse_their_logins_until_enabled()
    {
        var (email, password, id) = await gateway.NewVerifiedUserAsync();
        var tokens = await gateway.LoginAsync(email, password);
        using var admin = await gateway.AdminAsync();

        var disabled = await (await admin.PutAsJsonAsync($"/api/v1/admin/users/{id}/disabled", new { disabled = true })).JsonAsync();
        Assert.NotEqual(JsonValueKind.Null, disabled.GetProperty("disabled_at").ValueKind);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(tokens.Access));
        using var anonymous = gateway.Client();
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.Refresh })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/admin/users/{id}/disabled", new { disabled = false })).StatusCode);
        await gateway.LoginAsync(email, password);
    }

    [Fact]
    public async Task Should_check_revocations_in_postgresql_while_redis_is_unreachable()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        var ended = await gateway.LoginAsync(email, password);
        var live = await gateway.LoginAsync(email, password);
        using (var client = gateway.Client(ended.Access))
            Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/logout", null)).StatusCode);

        // A second node whose Redis is a closed port: nothing answers there, PostgreSQL must.
        using var deadRedis = SmartGrid.Storage.RedisConnection.Connect($"127.0.0.1:{SmartGrid.Testing.FreePort.Next()}");
        var node = await gateway.StartSecondGatewayAsync(gateway.Storage, redis: deadRedis);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(ended.Access, node));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(live.Access, node));
    }

    [Fact]
    public async Task Should_tell_a_node_reading_redis_of_a_session_ended_while_redis_was_out_of_reach()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        var tokens = await gateway.LoginAsync(email, password);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(tokens.Access));

        // The session ends on a node that cannot reach Redis: only PostgreSQL learns of it there.
        using var deadRedis = SmartGrid.Storage.RedisConnection.Connect($"127.0.0.1:{SmartGrid.Testing.FreePort.Next()}");
        var cutOff = await gateway.StartSecondGatewayAsync(gateway.Storage, redis: deadRedis);
        using (var client = gateway.Client(tokens.Access, cutOff))
            Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/v1/auth/logout", null)).StatusCode);

        // The first node reads a healthy Redis, where the logout wrote nothing: the revocation mirror must bring it there.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var status = await StatusAsync(tokens.Access);
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            status = await StatusAsync(tokens.Access);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    private async Task<HttpStatusCode> StatusAsync(string access, Uri? node = null)
    {
        using var client = gateway.Client(access, node);
        return (await client.GetAsync(OwnRoute)).StatusCode;
    }

    private async Task<Tokens> RefreshAsync(string refresh)
    {
        using var client = gateway.Client();
        var body = await (await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = refresh })).JsonAsync();
        return new Tokens(body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }
}
