using Akka.Actor;
using Confluent.Kafka;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Tariffs;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

public sealed class AlertManagerSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private const string RegionalTopic = "regional_aggregates";
    private const string AnomaliesTopic = "anomalies";
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);
    private readonly string _alerts = $"alerts-{Guid.NewGuid():N}";

    private IActorRef Start(AlertSettings? settings = null) =>
        StartAlertManager((settings ?? new AlertSettings()) with { AlertsTopic = _alerts });

    private static RegionalAggregateMessage Minute(string region, int minute, double load, int revision = 1, string size = "1m") => new()
    {
        Region = region, WindowSize = size, WindowStart = T0.AddMinutes(minute),
        WindowEnd = T0.AddMinutes(minute) + (size == "1m" ? TimeSpan.FromMinutes(1) : TimeSpan.FromMinutes(15)),
        MeterCount = 10, TotalPowerKw = load * 30, CapacityKw = 3000, LoadPercentage = load, Revision = revision,
    };

    private static Anomaly Anomaly(string meter, DateTimeOffset at, double actual, Severity severity) => new()
    {
        MeterId = meter, Region = "Pune-West", Kind = AnomalyKind.Spike, Timestamp = at, BaselineKw = 1.0, ActualKw = actual,
        DeviationPercent = (actual - 1.0) * 100, Severity = severity,
    };

    private List<AlertEventMessage> Events() =>
        ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).OrderBy(e => e.EventId).ToList();

    private Task<long> Count(string sql, params object[] values) => ScalarAsync<long>(sql, values);

    private async Task<Guid> RaiseAnomalyAlert(IActorRef manager, string meter = "MTR-00000001")
    {
        await Deliver(manager, AnomaliesTopic, Anomaly(meter, T0, 3.0, Severity.Medium));
        return await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE meter_id = $1", meter);
    }

    [Fact]
    public async Task Should_raise_one_overload_alert_after_three_windows_over_threshold_within_thirty_minutes()
    {
        var manager = Start();
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Nashik", 0, 90))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Nashik", 5, 50))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Nashik", 10, 90))).Outcome);
        Assert.Equal(RecordHandled.Ignored, await Deliver(manager, RegionalTopic, Minute("Nashik", 15, 99, size: "15m")));
        Assert.Equal(0, await Count("SELECT count(*) FROM alerts"));

        Assert.Equal("alert-created", (await Deliver(manager, RegionalTopic, Minute("Nashik", 20, 90))).Outcome);
        Assert.Equal("alert-updated", (await Deliver(manager, RegionalTopic, Minute("Nashik", 21, 92))).Outcome);
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, RegionalTopic, Minute("Nashik", 21, 92)));

        Assert.Equal(1, await Count("SELECT count(*) FROM alerts"));
        Assert.Equal(2, await ScalarAsync<int>("SELECT occurrence_count FROM alerts WHERE type = 'THRESHOLD' AND region = 'Nashik' AND meter_id IS NULL"));
        Assert.Equal("high", await ScalarAsync<string>("SELECT severity FROM alerts"));
        Assert.Equal(["created"], (await AuditActions()).ToList());
        var created = Assert.Single(Events());
        Assert.Equal(("created", AlertType.Threshold, AlertStatus.Active, "Nashik"), (created.Event, created.Alert.Type, created.Alert.Status, created.Alert.Region));
        // On the topic, the type and status are the seed's text.
        var wire = System.Text.Json.Nodes.JsonNode.Parse(Assert.Single(ReadAll(_alerts)).Message.Value)!["alert"]!;
        Assert.Equal(("THRESHOLD", "active"), ((string?)wire["type"], (string?)wire["status"]));
        Assert.Equal(90, created.Alert.Metadata.GetProperty("load_percent").GetDouble());

        Assert.Equal(4, await Redis.SortedSetLengthAsync(Keys.Overload("Nashik")));
        Assert.InRange((await Redis.KeyTimeToLiveAsync(Keys.Overload("Nashik")))!.Value, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
        Assert.Equal("1", (await Redis.StringGetAsync(Keys.AlertCount("Nashik"))).ToString());
    }

    [Fact]
    public async Task Should_not_raise_when_the_overload_windows_do_not_fit_in_thirty_minutes()
    {
        var manager = Start();
        foreach (var minute in new[] { 0, 20, 40, 60 })
            Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Nashik", minute, 95))).Outcome);
        Assert.Equal(0, await Count("SELECT count(*) FROM alerts"));
        Assert.Empty(Events());
    }

    [Fact]
    public async Task Should_keep_overload_windows_across_a_manager_restart()
    {
        var first = Start();
        await Deliver(first, RegionalTopic, Minute("Nashik", 0, 90));
        await Deliver(first, RegionalTopic, Minute("Nashik", 1, 90));
        await first.GracefulStop(TimeSpan.FromSeconds(5));

        // A new owner (singleton handover) continues from the stored windows.
        var second = Sys.ActorOf(AlertManager.Props(new AlertSettings { AlertsTopic = _alerts }, Db, Fixture.Redis, Keys, Fixture.Producer));
        Assert.Equal(RecordHandled.Duplicate, await Deliver(second, RegionalTopic, Minute("Nashik", 1, 90)));
        Assert.Equal("alert-created", (await Deliver(second, RegionalTopic, Minute("Nashik", 2, 90))).Outcome);
    }

    [Fact]
    public async Task Should_keep_one_overload_alert_while_the_load_hovers_and_clear_it_after_three_windows_under_eighty_percent()
    {
        var manager = Start();
        foreach (var minute in new[] { 0, 1, 2 })
            await Deliver(manager, RegionalTopic, Minute("Pune-West", minute, 90));
        // Under the raise threshold, not under the clear one, and 86 % again: the same alert, counted again.
        foreach (var (minute, load) in new[] { (3, 84.0), (4, 79.0), (5, 82.0), (6, 86.0), (7, 79.0), (8, 78.0) })
            await Deliver(manager, RegionalTopic, Minute("Pune-West", minute, load));
        Assert.Equal(("active", 1), (await ScalarAsync<string>("SELECT status FROM alerts"), await Count("SELECT count(*) FROM alerts")));

        Assert.Equal("alert-resolved", (await Deliver(manager, RegionalTopic, Minute("Pune-West", 9, 50))).Outcome);
        Assert.Equal(("resolved", "system"), (await ScalarAsync<string>("SELECT status FROM alerts"), await ScalarAsync<string>("SELECT resolved_by FROM alerts")));
        Assert.Equal(["created", "resolved"], Events().Select(e => e.Event));
        Assert.Equal("0", (await Redis.StringGetAsync(Keys.AlertCount("Pune-West"))).ToString());

        // Over again: a new alert needs the rule's three windows anew, not one.
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Pune-West", 10, 90))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Pune-West", 11, 90))).Outcome);
        Assert.Equal("alert-created", (await Deliver(manager, RegionalTopic, Minute("Pune-West", 12, 90))).Outcome);
    }

    [Fact]
    public async Task Should_keep_an_overload_open_with_a_note_when_it_is_resolved_while_it_continues()
    {
        var manager = Start(new AlertSettings { OverloadClearWindows = 3 });
        foreach (var minute in new[] { 0, 1, 2 })
            await Deliver(manager, RegionalTopic, Minute("Nashik", minute, 90));
        var id = await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE type = 'THRESHOLD'");

        var held = await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1", "crew on site"), TimeSpan.FromSeconds(10));
        Assert.Equal((AlertStatus.Acknowledged, "operator-1"), (held.Alert.Status, held.Alert.AcknowledgedBy));
        Assert.Equal(["created", "acknowledged", "noted"], await AuditActions());
        Assert.Equal("crew on site", await ScalarAsync<string>("SELECT note FROM alert_acknowledgments WHERE action = 'acknowledged'"));
        var why = await ScalarAsync<string>("SELECT note FROM alert_acknowledgments WHERE action = 'noted'");
        Assert.Contains("still overloaded", why);
        Assert.EndsWith("Operator's note: crew on site", why);

        // The overload goes on: the same alert counts it; no second alert is raised.
        Assert.Equal("alert-updated", (await Deliver(manager, RegionalTopic, Minute("Nashik", 3, 91))).Outcome);
        Assert.Equal(1, await Count("SELECT count(*) FROM alerts"));

        // Back under the clear percentage, the operator's resolve counts; the windows counted so far go with it.
        await Deliver(manager, RegionalTopic, Minute("Nashik", 4, 50));
        await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal("resolved", await ScalarAsync<string>("SELECT status FROM alerts"));
        Assert.Equal(0, await Redis.SortedSetLengthAsync(Keys.Overload("Nashik")));

        // A new overload needs a full run of windows again, not one more window: no flapping.
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Nashik", 5, 91))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, RegionalTopic, Minute("Nashik", 6, 91))).Outcome);
        Assert.Equal("alert-created", (await Deliver(manager, RegionalTopic, Minute("Nashik", 7, 91))).Outcome);
        Assert.Equal(["created", "acknowledged", "noted", "resolved", "created"], Events().Select(e => e.Event));
        Assert.Equal("crew on site", Events().Single(e => e.Event == "acknowledged").Note);
    }

    [Fact]
    public async Task Should_resolve_an_overload_at_once_when_the_load_has_cleared()
    {
        var manager = Start(new AlertSettings { OverloadClearWindows = 10 });
        foreach (var minute in new[] { 0, 1, 2 })
            await Deliver(manager, RegionalTopic, Minute("Nashik", minute, 90));
        // Under the clear percentage for a while, but not yet long enough to resolve itself: the operator may resolve it.
        for (var minute = 3; minute < 8; minute++)
            await Deliver(manager, RegionalTopic, Minute("Nashik", minute, 40));
        var id = await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE type = 'THRESHOLD'");
        var resolved = await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1", "feeder switched"), TimeSpan.FromSeconds(10));
        Assert.Equal(AlertStatus.Resolved, resolved.Alert.Status);
        Assert.Equal("feeder switched", Events().Single(e => e.Event == "resolved").Note);
    }

    [Fact]
    public async Task Should_lower_an_overloads_severity_when_its_load_falls_under_the_critical_share_and_not_for_a_late_window()
    {
        var manager = Start(new AlertSettings { CriticalLoadPercent = 95 });
        foreach (var minute in new[] { 0, 1, 2 })
            await Deliver(manager, RegionalTopic, Minute("Nashik", minute, 97));
        Assert.Equal("critical", await ScalarAsync<string>("SELECT severity FROM alerts"));

        // Still over the threshold, no longer critical: the same alert, high now (the escalation de-escalates it from that).
        Assert.Equal("alert-updated", (await Deliver(manager, RegionalTopic, Minute("Nashik", 3, 88))).Outcome);
        Assert.Equal(("high", 1L), (await ScalarAsync<string>("SELECT severity FROM alerts"), await Count("SELECT count(*) FROM alerts")));

        // A window older than the newest seen, critical, arriving late: it says nothing about the load now.
        await Deliver(manager, RegionalTopic, Minute("Nashik", 2, 99, revision: 2));
        Assert.Equal("high", await ScalarAsync<string>("SELECT severity FROM alerts"));

        Assert.Equal("alert-updated", (await Deliver(manager, RegionalTopic, Minute("Nashik", 4, 98))).Outcome);
        Assert.Equal("critical", await ScalarAsync<string>("SELECT severity FROM alerts"));
    }

    [Fact]
    public async Task Should_merge_two_anomalies_of_the_same_meter_milliseconds_apart_into_one_alert()
    {
        var manager = Start();
        var first = Anomaly("MTR-00000042", T0, 3.0, Severity.Medium);
        var second = Anomaly("MTR-00000042", T0.AddMilliseconds(3), 5.5, Severity.Critical);
        var outcomes = await Task.WhenAll(Deliver(manager, AnomaliesTopic, first), Deliver(manager, AnomaliesTopic, second));
        Assert.Equal(["alert-created", "alert-updated"], outcomes.Select(o => o.Outcome));
        // A redelivered anomaly is not a new occurrence.
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, AnomaliesTopic, first));

        Assert.Equal(1, await Count("SELECT count(*) FROM alerts"));
        Assert.Equal(2, await ScalarAsync<int>("SELECT occurrence_count FROM alerts WHERE type = 'ANOMALY' AND meter_id = 'MTR-00000042'"));
        Assert.Equal("critical", await ScalarAsync<string>("SELECT severity FROM alerts"));
        Assert.Equal(T0.AddMilliseconds(3), await ScalarAsync<DateTime>("SELECT last_seen_at FROM alerts"));
        var created = Assert.Single(Events());
        Assert.Equal(("created", AlertType.Anomaly, "MTR-00000042", "medium"), (created.Event, created.Alert.Type, created.Alert.MeterId, created.Alert.Severity));

        await Deliver(manager, AnomaliesTopic, Anomaly("MTR-00000043", T0, 3.0, Severity.Medium));
        Assert.Equal(2, await Count("SELECT count(*) FROM alerts"));
    }

    [Fact]
    public async Task Should_audit_and_publish_acknowledge_then_resolve()
    {
        var manager = Start();
        var id = await RaiseAnomalyAlert(manager);

        var acknowledged = await manager.Ask<AlertCommandSucceeded>(new AcknowledgeAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal((AlertStatus.Acknowledged, "operator-1"), (acknowledged.Alert.Status, acknowledged.Alert.AcknowledgedBy));
        Assert.NotNull(acknowledged.Alert.AcknowledgedAt);

        var resolved = await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-2"), TimeSpan.FromSeconds(10));
        Assert.Equal((AlertStatus.Resolved, "operator-2", "operator-1"), (resolved.Alert.Status, resolved.Alert.ResolvedBy, resolved.Alert.AcknowledgedBy));
        Assert.NotNull(resolved.Alert.ResolvedAt);

        Assert.Equal(["created", "acknowledged", "resolved"], await AuditActions());
        Assert.Equal("operator-2", await ScalarAsync<string>("SELECT actor FROM alert_acknowledgments WHERE action = 'resolved'"));
        var events = Events();
        Assert.Equal([("created", AlertStatus.Active), ("acknowledged", AlertStatus.Acknowledged), ("resolved", AlertStatus.Resolved)],
            events.Select(e => (e.Event, e.Alert.Status)));
        Assert.All(events, e => Assert.Equal(id, e.Alert.AlertId));
        Assert.Equal("operator-1", events[1].Actor);
        Assert.Equal(0, await Count("SELECT count(*) FROM alert_acknowledgments WHERE published_at IS NULL"));
    }

    [Fact]
    public async Task Should_reject_invalid_transitions()
    {
        var manager = Start();
        var id = await RaiseAnomalyAlert(manager);
        await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10));

        var twice = await manager.Ask<AlertCommandRejected>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal(AlertCommandError.InvalidTransition, twice.Error);
        Assert.Contains("resolved", twice.Reason);
        var late = await manager.Ask<AlertCommandRejected>(new AcknowledgeAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal(AlertCommandError.InvalidTransition, late.Error);
        var missing = await manager.Ask<AlertCommandRejected>(new AcknowledgeAlert(Guid.NewGuid(), "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal(AlertCommandError.NotFound, missing.Error);

        var other = await RaiseAnomalyAlert(manager, "MTR-00000002");
        await manager.Ask<AlertCommandSucceeded>(new AcknowledgeAlert(other, "operator-1"), TimeSpan.FromSeconds(10));
        var again = await manager.Ask<AlertCommandRejected>(new AcknowledgeAlert(other, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal(AlertCommandError.InvalidTransition, again.Error);

        Assert.Equal(["created", "resolved", "created", "acknowledged"], await AuditActions());
        Assert.Equal(4, Events().Count);
    }

    [Fact]
    public async Task Should_open_a_new_alert_after_the_previous_one_was_resolved()
    {
        var manager = Start();
        var id = await RaiseAnomalyAlert(manager);
        await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal("alert-created",
            (await Deliver(manager, AnomaliesTopic, Anomaly("MTR-00000001", T0.AddMinutes(5), 3.0, Severity.Low))).Outcome);
        Assert.Equal(2, await Count("SELECT count(*) FROM alerts WHERE meter_id = 'MTR-00000001'"));
    }

    [Fact]
    public async Task Should_consume_anomalies_and_loads_from_kafka_and_commit_after_the_alert_is_stored()
    {
        var regional = NewTopic("regional", 3);
        var anomalies = NewTopic("anomalies", 3);
        var group = "alerts-" + Guid.NewGuid().ToString("N");
        var manager = Start(new AlertSettings
        {
            Consumer = new ConsumerOptions
            {
                BootstrapServers = Fixture.Broker.BootstrapServers, GroupId = group, Topics = [regional, anomalies],
                Properties = new Dictionary<string, string> { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" },
            },
        });
        foreach (var minute in new[] { 0, 1, 2 })
            await Fixture.Producer.ProduceAsync(regional,
                new Message<string, string> { Key = "Nashik", Value = WireJson.Serialize(Minute("Nashik", minute, 97)) });
        await Fixture.Producer.ProduceAsync(anomalies, new Message<string, string>
            { Key = "MTR-00000007", Value = WireJson.Serialize(Anomaly("MTR-00000007", T0, 4.5, Severity.High)) });

        await Eventually(async () => await Count("SELECT count(*) FROM alerts") == 2, 20, "two alerts");
        await Eventually(() => Task.FromResult(Events().Count == 2), 10, "two events");
        await Eventually(async () => await CommittedEverything(group, regional) && await CommittedEverything(group, anomalies), 20, "offsets committed");
        Assert.Equal([AlertType.Anomaly, AlertType.Threshold], Events().Select(e => e.Alert.Type).Order());
        Sys.Stop(manager);
    }

    private async Task<List<string>> AuditActions()
    {
        var actions = new List<string>();
        await using var command = Db.CreateCommand("SELECT action FROM alert_acknowledgments ORDER BY event_id");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) actions.Add(reader.GetString(0));
        return actions;
    }
}
