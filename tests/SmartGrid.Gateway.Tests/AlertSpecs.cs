using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AlertSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_list_open_alerts_of_the_operators_regions_only_with_filters_and_paging()
    {
        var (op, _, _) = await gateway.OperatorOfAsync("Pune-West");
        var critical = await InsertAlertAsync("Pune-West", null, "critical", "THRESHOLD");
        var medium = await InsertAlertAsync("Pune-West", Scenario.NewMeterId(), "medium", "ANOMALY");
        var resolved = await InsertAlertAsync("Pune-West", Scenario.NewMeterId(), "high", "ANOMALY", status: "resolved");
        var elsewhere = await InsertAlertAsync("Mumbai-Central", null, "critical", "THRESHOLD");

        var page = await (await op.GetAsync("/api/v1/alerts/operator/active")).JsonAsync();
        var ids = Ids(page);
        Assert.Contains(critical, ids);
        Assert.Contains(medium, ids);
        Assert.DoesNotContain(resolved, ids);
        Assert.DoesNotContain(elsewhere, ids);
        Assert.All(page.GetProperty("items").EnumerateArray(), a => Assert.Equal("Pune-West", a.GetProperty("region").GetString()));
        Assert.True(ids.IndexOf(critical) < ids.IndexOf(medium), "most severe first");

        var anomalies = Ids(await (await op.GetAsync("/api/v1/alerts/operator/active?type=anomaly&severity=medium")).JsonAsync());
        Assert.Contains(medium, anomalies);
        Assert.DoesNotContain(critical, anomalies);
        Assert.Contains(resolved, Ids(await (await op.GetAsync("/api/v1/alerts/operator/active?status=resolved")).JsonAsync()));
        var first = await (await op.GetAsync("/api/v1/alerts/operator/active?limit=1")).JsonAsync();
        Assert.Single(first.GetProperty("items").EnumerateArray());
        Assert.True(first.GetProperty("total").GetInt64() >= 2);

        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync("/api/v1/alerts/operator/active?region=Mumbai-Central")).StatusCode);
        Assert.Contains("must be one of", await (await op.GetAsync("/api/v1/alerts/operator/active?severity=urgent")).FieldErrorAsync("severity"));
        Assert.Contains("must be one of", await (await op.GetAsync("/api/v1/alerts/operator/active?type=FIRE")).FieldErrorAsync("type"));
        Assert.Contains("must be one of", await (await op.GetAsync("/api/v1/alerts/operator/active?region=Atlantis")).FieldErrorAsync("region"));

        using var admin = await gateway.AdminAsync();
        Assert.Contains(elsewhere, Ids(await (await admin.GetAsync("/api/v1/alerts/operator/active?limit=1000")).JsonAsync()));
        var (user, _, _, _) = await gateway.UserWithMeterAsync("Pune-West");
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/alerts/operator/active")).StatusCode);
    }

    [Fact]
    public async Task Should_acknowledge_and_resolve_through_the_alert_manager_and_refuse_invalid_transitions()
    {
        var (op, opId, _) = await gateway.OperatorOfAsync("Nashik");
        var id = await InsertAlertAsync("Nashik", null, "high", "THRESHOLD");
        var foreign = await InsertAlertAsync("Mumbai-North", null, "high", "THRESHOLD");

        var acknowledged = await (await op.PutAsync($"/api/v1/alerts/operator/{id}/acknowledge", null)).JsonAsync();
        Assert.Equal("acknowledged", acknowledged.GetProperty("status").GetString());
        Assert.Equal(opId.ToString(), acknowledged.GetProperty("acknowledged_by").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await op.PutAsync($"/api/v1/alerts/operator/{id}/acknowledge", null)).StatusCode);

        var resolved = await (await op.PutAsync($"/api/v1/alerts/operator/{id}/resolve", null)).JsonAsync();
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        var again = await op.PutAsync($"/api/v1/alerts/operator/{id}/resolve", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);

        // The AlertManager recorded both transitions in the audit trail the detail route shows.
        var detail = await (await op.GetAsync($"/api/v1/alerts/operator/{id}")).JsonAsync();
        Assert.Equal(["created", "acknowledged", "resolved"],
            detail.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("action").GetString()));
        Assert.Equal("resolved", detail.GetProperty("alert").GetProperty("status").GetString());
        // ... and published them on the alerts topic (keyed by alert id).
        var (key, published) = await gateway.ReadTopicAsync(Topics.Alerts, WireJson.Deserialize<AlertEventMessage>,
            e => e.Alert.AlertId == id && e.Event == "acknowledged");
        Assert.Equal((id.ToString(), opId.ToString()), (key, published.Actor));

        Assert.Equal(HttpStatusCode.Forbidden, (await op.PutAsync($"/api/v1/alerts/operator/{foreign}/acknowledge", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync($"/api/v1/alerts/operator/{foreign}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PutAsync($"/api/v1/alerts/operator/{Guid.NewGuid()}/resolve", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.GetAsync($"/api/v1/alerts/operator/{Guid.NewGuid()}")).StatusCode);
        Assert.Contains("UUID", await (await op.PutAsync("/api/v1/alerts/operator/42/acknowledge", null)).FieldErrorAsync("alertId"));
        Assert.Equal("active", await StatusOfAsync(foreign));
    }

    [Fact]
    public async Task Should_record_the_operators_note_and_show_the_timeline_with_names()
    {
        var (op, opId, _) = await gateway.OperatorOfAsync("Nashik");
        var email = await ScalarAsync<string>("SELECT email FROM users WHERE id = $1", opId);
        var id = await InsertAlertAsync("Nashik", Scenario.NewMeterId(), "high", "ANOMALY");

        var tooLong = await op.PutAsJsonAsync($"/api/v1/alerts/operator/{id}/acknowledge", new { note = new string('x', 1001) });
        Assert.Contains("at most 1000", await tooLong.FieldErrorAsync("note"));
        Assert.Contains("control characters",
            await (await op.PutAsJsonAsync($"/api/v1/alerts/operator/{id}/acknowledge", new { note = "bell\u0007" })).FieldErrorAsync("note"));
        Assert.Contains("must be a string",
            await (await op.PutAsJsonAsync($"/api/v1/alerts/operator/{id}/acknowledge", new { note = 42 })).FieldErrorAsync("note"));
        Assert.Equal("active", await StatusOfAsync(id));

        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/api/v1/alerts/operator/{id}/acknowledge", new { note = "  looking at it  " })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PutAsJsonAsync($"/api/v1/alerts/operator/{id}/resolve", new { note = "meter replaced" })).StatusCode);

        var events = (await (await op.GetAsync($"/api/v1/alerts/operator/{id}")).JsonAsync()).GetProperty("events").EnumerateArray().ToList();
        Assert.Equal([("created", "system", null), ("acknowledged", email, "looking at it"), ("resolved", email, "meter replaced")],
            events.Select(e => (e.GetProperty("action").GetString(), e.GetProperty("actor_name").GetString(), e.GetProperty("note").GetString())));
        Assert.Equal(opId.ToString(), events[1].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Should_answer_503_when_the_alert_manager_does_not_answer()
    {
        var silent = gateway.Actors.ActorOf(Props.Create(() => new SilentActor()));
        var second = await gateway.StartSecondGatewayAsync(gateway.Storage, new FixedAlertManagerRef(silent),
            new Dictionary<string, string?> { ["SmartGrid:Gateway:AlertCommandTimeout"] = "00:00:01" });
        var (_, _, access) = await gateway.OperatorOfAsync("Nashik");
        using var op = gateway.Client(access, second);
        var id = await InsertAlertAsync("Nashik", Scenario.NewMeterId(), "low", "ANOMALY");

        var response = await op.PutAsync($"/api/v1/alerts/operator/{id}/acknowledge", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("active", await StatusOfAsync(id));
    }

    [Fact]
    public async Task Should_show_a_user_the_alerts_on_their_own_meters_only()
    {
        var (user, _, meter, _) = await gateway.UserWithMeterAsync("Mumbai-Central");
        var mine = await InsertAlertAsync("Mumbai-Central", meter, "high", "ANOMALY");
        var regional = await InsertAlertAsync("Mumbai-Central", Scenario.NewMeterId(), "high", "ANOMALY");

        var page = await (await user.GetAsync("/api/v1/alerts/user")).JsonAsync();
        Assert.Equal([mine], Ids(page));
        Assert.DoesNotContain(regional, Ids(await (await user.GetAsync("/api/v1/alerts/user?status=all")).JsonAsync()));
        Assert.Contains("must be", await (await user.GetAsync("/api/v1/alerts/user?status=open")).FieldErrorAsync("status"));

        var (other, _, _, _) = await gateway.UserWithMeterAsync("Mumbai-Central");
        Assert.Empty(Ids(await (await other.GetAsync("/api/v1/alerts/user")).JsonAsync()));
    }

    private static List<Guid> Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("alert_id").GetGuid()).ToList();

    /// <summary>An alert as the AlertManager stores it, with its 'created' audit row.</summary>
    private async Task<Guid> InsertAlertAsync(string region, string? meterId, string severity, string type, string status = "active")
    {
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await gateway.ExecuteAsync(
            """
            INSERT INTO alerts (alert_id, type, severity, region, meter_id, message, status, first_seen_at, last_seen_at)
            VALUES ($1, $2, $3, $4, $5, 'spec alert', $6, $7, $7)
            """, id, type, severity, region, (object?)meterId ?? DBNull.Value, status, now);
        await gateway.ExecuteAsync(
            "INSERT INTO alert_acknowledgments (alert_id, action, actor, at, alert, published_at) VALUES ($1, 'created', 'system', $2, '{}'::jsonb, now())",
            id, now);
        return id;
    }

    private async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand(sql);
        foreach (var value in values)
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = value });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<string> StatusOfAsync(Guid id)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand("SELECT status FROM alerts WHERE alert_id = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private sealed class SilentActor : ReceiveActor
    {
        public SilentActor() => ReceiveAny(_ => { });
    }
}
