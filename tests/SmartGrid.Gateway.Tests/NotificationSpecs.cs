using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class NotificationSpecs(GatewayFixture gateway)
{
    private const string Route = "/api/v1/notifications/user/preferences";

    [Fact]
    public async Task Should_answer_defaults_until_saved_and_then_the_saved_preferences()
    {
        var (user, id, _, _) = await gateway.UserWithMeterAsync("Nashik");
        var defaults = await (await user.GetAsync(Route)).JsonAsync();
        Assert.False(defaults.GetProperty("saved").GetBoolean());
        Assert.Equal(["email"], defaults.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("medium", defaults.GetProperty("min_severity").GetString());

        var saved = await (await user.PutAsJsonAsync(Route, new
        {
            channels = new[] { "webhook", "email", "push", "sms" },
            min_severity = "high",
            webhook_url = "https://93.184.215.14/grid",
            phone = "+919812345678",
            push_token = "fcm-token-123",
            quiet_hours_start = "22:30",
            quiet_hours_end = "06:00",
        })).JsonAsync();
        Assert.True(saved.GetProperty("saved").GetBoolean());
        Assert.Equal(["email", "sms", "push", "webhook"], saved.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        var again = await (await user.GetAsync(Route)).JsonAsync();
        Assert.Equal(("high", "https://93.184.215.14/grid", "22:30", "06:00", "fcm-token-123"),
            (again.GetProperty("min_severity").GetString(), again.GetProperty("webhook_url").GetString(),
             again.GetProperty("quiet_hours_start").GetString(), again.GetProperty("quiet_hours_end").GetString(),
             again.GetProperty("push_token").GetString()));

        // Stored where the NotificationManager reads it.
        await using var cmd = gateway.Storage.DataSource.CreateCommand(
            "SELECT channels, min_severity, to_jsonb(p) ->> 'push_token' FROM notification_preferences p WHERE user_id = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(["email", "sms", "push", "webhook"], reader.GetFieldValue<string[]>(0));
        Assert.Equal(("high", "fcm-token-123"), (reader.GetString(1), reader.GetString(2)));

        // PUT replaces the whole document.
        var minimal = await (await user.PutAsJsonAsync(Route, new { channels = new[] { "email" } })).JsonAsync();
        Assert.Equal(JsonValueKind.Null, minimal.GetProperty("webhook_url").ValueKind);
        Assert.Equal("medium", minimal.GetProperty("min_severity").GetString());
    }

    [Fact]
    public async Task Should_refuse_invalid_preferences_naming_the_field()
    {
        var (user, _, _, _) = await gateway.UserWithMeterAsync("Nashik");
        async Task<string> Error(object body, string field) => await (await user.PutAsJsonAsync(Route, body)).FieldErrorAsync(field);

        Assert.Contains("not a channel", await Error(new { channels = new[] { "email", "pigeon" } }, "channels"));
        Assert.Contains("repeat", await Error(new { channels = new[] { "email", "email" } }, "channels"));
        Assert.Contains("required", await Error(new { min_severity = "low" }, "channels"));
        Assert.Contains("must be one of", await Error(new { channels = new[] { "email" }, min_severity = "urgent" }, "min_severity"));
        Assert.Contains("required for the webhook", await Error(new { channels = new[] { "webhook" } }, "webhook_url"));
        Assert.Contains("http or https", await Error(new { channels = new[] { "webhook" }, webhook_url = "ftp://example.com/x" }, "webhook_url"));
        Assert.Contains("http or https", await Error(new { channels = new[] { "webhook" }, webhook_url = "https://user:pw@example.com/x" }, "webhook_url"));
        Assert.Contains("required for the sms", await Error(new { channels = new[] { "sms" } }, "phone"));
        Assert.Contains("E.164", await Error(new { channels = new[] { "sms" }, phone = "12345" }, "phone"));
        Assert.Contains("required for the push", await Error(new { channels = new[] { "push" } }, "push_token"));
        Assert.Contains("HH:mm", await Error(new { channels = new[] { "email" }, quiet_hours_start = "25:00", quiet_hours_end = "06:00" }, "quiet_hours_start"));
        Assert.Contains("neither", await Error(new { channels = new[] { "email" }, quiet_hours_start = "22:00" }, "quiet_hours_end"));
        Assert.Contains("email address", await Error(new { channels = new[] { "email" }, email = "not-an-address" }, "email"));

        // Operators are notified of their regions' alerts: they keep preferences too.
        var (op, _, _) = await gateway.OperatorOfAsync("Nashik");
        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync(Route, new { channels = new[] { "email" }, min_severity = "critical" })).StatusCode);
        Assert.Equal("critical", (await (await op.GetAsync(Route)).JsonAsync()).GetProperty("min_severity").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client().GetAsync(Route)).StatusCode);
    }

    [Fact]
    public async Task Should_save_channels_per_alert_type_and_severity_keep_them_when_left_out_and_name_the_invalid_rule_field()
    {
        var (op, id, _) = await gateway.OperatorOfAsync("Nashik");
        async Task<string> Error(object rules, string field) =>
            await (await op.PutAsJsonAsync(Route, new { channels = new[] { "email" }, alert_rules = rules })).FieldErrorAsync(field);

        var saved = await (await op.PutAsJsonAsync(Route, new
        {
            channels = new[] { "email" }, min_severity = "high", webhook_url = "https://93.184.215.14/grid",
            alert_rules = new object[]
            {
                new { types = new[] { "outage" }, severities = new[] { "critical" }, channels = new[] { "webhook", "email" } },
                new { types = new[] { "ANOMALY" }, channels = Array.Empty<string>() },
            },
        })).JsonAsync();
        var rules = saved.GetProperty("alert_rules").EnumerateArray().ToList();
        Assert.Equal(2, rules.Count);
        Assert.Equal(["OUTAGE"], rules[0].GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["email", "webhook"], rules[0].GetProperty("channels").EnumerateArray().Select(t => t.GetString()));
        Assert.Empty(rules[1].GetProperty("severities").EnumerateArray());

        // A client that does not know the rules (the older console) keeps them; [] clears them.
        await (await op.PutAsJsonAsync(Route, new { channels = new[] { "email" }, webhook_url = "https://93.184.215.14/grid" })).JsonAsync();
        await using (var cmd = gateway.Storage.DataSource.CreateCommand("SELECT jsonb_array_length(alert_rules) FROM notification_preferences WHERE user_id = $1"))
        {
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
            Assert.Equal(2, (int)(await cmd.ExecuteScalarAsync())!);
        }
        var cleared = await (await op.PutAsJsonAsync(Route, new { channels = new[] { "email" }, alert_rules = Array.Empty<object>() })).JsonAsync();
        Assert.Empty(cleared.GetProperty("alert_rules").EnumerateArray());

        Assert.Contains("not one of", await Error(new[] { new { types = new[] { "FIRE" }, channels = new[] { "email" } } }, "alert_rules[0].types"));
        Assert.Contains("not one of", await Error(new[] { new { severities = new[] { "urgent" }, channels = new[] { "email" } } }, "alert_rules[0].severities"));
        Assert.Contains("required", await Error(new object[] { new { channels = new[] { "email" } }, new { types = new[] { "OUTAGE" } } }, "alert_rules[1].channels"));
        Assert.Contains("not one of", await Error(new[] { new { channels = new[] { "pigeon" } } }, "alert_rules[0].channels"));
        Assert.Contains("required for the sms", await Error(new[] { new { channels = new[] { "sms" } } }, "phone"));
        Assert.Contains("must be an object", await Error(new[] { "email" }, "alert_rules[0]"));
        Assert.Contains("0 to 20", await Error(Enumerable.Repeat(new { channels = new[] { "email" } }, 21).ToArray(), "alert_rules"));
    }
}
