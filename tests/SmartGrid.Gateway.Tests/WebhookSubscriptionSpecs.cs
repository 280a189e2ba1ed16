using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

/// <summary>What a user may save as a webhook, and the secret it is signed with.</summary>
[Collection(GatewayCollection.Name)]
public sealed class WebhookSubscriptionSpecs(GatewayFixture gateway)
{
    private const string Route = "/api/v1/notifications/user/preferences";
    private const string RotateRoute = "/api/v1/notifications/user/webhook-secret";

    [Theory]
    [InlineData("http://127.0.0.1:9110/cmd/cluster/leave", "loopback")]
    [InlineData("http://localhost:3000/api/v1/admin/users", "loopback")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("http://[::ffff:10.0.0.1]/", "private")]
    [InlineData("http://192.168.1.10/hook", "private")]
    [InlineData("http://[::1]:6379/", "not a public address")]
    public async Task Should_refuse_a_webhook_that_leads_inside_naming_the_field(string url, string why)
    {
        var (user, _, _, _) = await gateway.UserWithMeterAsync("Nashik");
        var error = await (await user.PutAsJsonAsync(Route, new { channels = new[] { "webhook" }, webhook_url = url })).FieldErrorAsync("webhook_url");
        Assert.Contains(why, error);
        Assert.Contains("AllowedTargets", error);
    }

    [Fact]
    public async Task Should_accept_an_internal_target_the_allow_list_opens_and_only_that_one()
    {
        var allowed = await gateway.StartSecondGatewayAsync(gateway.Storage,
            settings: new Dictionary<string, string?> { ["SmartGrid:Notifications:Webhook:AllowedTargets:0"] = "127.0.0.1:18080" });
        var (_, _, _, access) = await gateway.UserWithMeterAsync("Nashik");
        using var user = gateway.Client(access, allowed);

        var ok = await user.PutAsJsonAsync(Route, new { channels = new[] { "webhook" }, webhook_url = "http://127.0.0.1:18080/hook" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var otherPort = await user.PutAsJsonAsync(Route, new { channels = new[] { "webhook" }, webhook_url = "http://127.0.0.1:18081/hook" });
        Assert.Contains("loopback", await otherPort.FieldErrorAsync("webhook_url"));

        // The same URL on the gateway without the allow-list.
        using var plain = gateway.Client(access);
        var refused = await plain.PutAsJsonAsync(Route, new { channels = new[] { "webhook" }, webhook_url = "http://127.0.0.1:18080/hook" });
        Assert.Contains("loopback", await refused.FieldErrorAsync("webhook_url"));
    }

    [Fact]
    public async Task Should_show_a_new_secret_once_keep_it_across_saves_and_rotate_it_on_request()
    {
        var (user, id, _, _) = await gateway.UserWithMeterAsync("Nashik");
        var body = new { channels = new[] { "webhook" }, webhook_url = "https://93.184.215.14/grid" };

        var first = await user.PutAsJsonAsync(Route, body);
        Assert.Equal("no-store", first.Headers.CacheControl?.ToString());
        var created = await first.JsonAsync();
        var secret = created.GetProperty("webhook_secret").GetString();
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(6 + 64, secret!.Length);
        Assert.True(created.GetProperty("webhook_secret_set").GetBoolean());

        // Never shown again: not on read, not on the next save (which keeps it).
        var read = await (await user.GetAsync(Route)).JsonAsync();
        Assert.Equal(JsonValueKind.Null, read.GetProperty("webhook_secret").ValueKind);
        Assert.True(read.GetProperty("webhook_secret_set").GetBoolean());
        Assert.Equal(JsonValueKind.Null, (await (await user.PutAsJsonAsync(Route, body)).JsonAsync()).GetProperty("webhook_secret").ValueKind);
        Assert.Equal(secret, await StoredSecretAsync(id));

        var rotated = await user.PostAsync(RotateRoute, null);
        Assert.Equal("no-store", rotated.Headers.CacheControl?.ToString());
        var fresh = (await rotated.JsonAsync()).GetProperty("webhook_secret").GetString();
        Assert.StartsWith("whsec_", fresh);
        Assert.NotEqual(secret, fresh);
        Assert.Equal(fresh, await StoredSecretAsync(id));

        // No URL, no secret: removing the webhook forgets it, and there is nothing to rotate.
        await user.PutAsJsonAsync(Route, new { channels = new[] { "email" } });
        Assert.Null(await StoredSecretAsync(id));
        Assert.Equal(HttpStatusCode.Conflict, (await user.PostAsync(RotateRoute, null)).StatusCode);
    }

    private async Task<string?> StoredSecretAsync(Guid user)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand("SELECT webhook_secret FROM notification_preferences WHERE user_id = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = user });
        return await cmd.ExecuteScalarAsync() as string;
    }
}
