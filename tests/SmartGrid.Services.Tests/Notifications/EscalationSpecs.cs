using System.Text.Json;
using Akka.Actor;
using Microsoft.Extensions.Time.Testing;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Notifications;
using SmartGrid.Storage.Alerts;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests.Notifications;

/// <summary>
/// Reminders, escalation, de-escalation, digests and per-type preferences of the NotificationManager, over real PostgreSQL
/// and a real SMTP server, with the clock in the spec's hands (FakeTimeProvider; the manager's own timer is set far off,
/// so every check is one the spec asks for).
/// </summary>
public sealed class EscalationSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private const string Region = "Pune-West";
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly SmtpSink _smtp = new();
    private readonly FakeTimeProvider _clock = new(T0);
    private long _nextEventId = 1;

    protected override void Dispose(bool disposing)
    {
        if (disposing) _smtp.Dispose();
        base.Dispose(disposing);
    }

    private NotificationSettings Settings(Dictionary<string, TimeSpan>? reminders = null, string? digestBelow = "") => new()
    {
        Smtp = new SmtpSettings { Host = "127.0.0.1", Port = _smtp.Port, From = "grid@smartgrid.test" },
        Webhook = new WebhookSettings { AllowedTargets = ["127.0.0.1"], Timeout = TimeSpan.FromSeconds(3) },
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        ReminderIntervals = reminders ?? [],
        DigestBelow = digestBelow,
        EscalationCheckInterval = TimeSpan.FromHours(1),
        Consumer = new ConsumerOptions { GroupId = NotificationSettings.GroupId, Topics = ["alerts", "tariff_updates"] },
    };

    private IActorRef Start(NotificationSettings settings) =>
        Sys.ActorOf(NotificationManager.Props(settings, Db, [new EmailChannel(settings.Smtp), new WebhookChannel(settings.Webhook)], time: _clock));

    private static async Task<EscalationsChecked> Check(IActorRef manager) =>
        await manager.Ask<EscalationsChecked>(CheckEscalations.Instance, TimeSpan.FromSeconds(20));

    private async Task<Guid> AddUser(string email, string role, string[] regions, string minSeverity = "medium", string channels = "{email}",
        string rules = "[]", string? webhookUrl = null)
    {
        var id = Guid.NewGuid();
        await using (var command = Db.CreateCommand("INSERT INTO users (id, email, password_hash, role, operator_regions) VALUES ($1, $2, 'x', $3, $4)"))
        {
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(email);
            command.Parameters.AddWithValue(role);
            command.Parameters.AddWithValue(regions);
            await command.ExecuteNonQueryAsync();
        }
        await using (var command = Db.CreateCommand("""
            INSERT INTO notification_preferences (user_id, channels, min_severity, alert_rules, webhook_url, webhook_secret)
            VALUES ($1, $2::text[], $3, $4::jsonb, $5, CASE WHEN $5 IS NULL THEN NULL ELSE 'secret' END)
            """))
        {
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(channels);
            command.Parameters.AddWithValue(minSeverity);
            command.Parameters.AddWithValue(rules);
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = (object?)webhookUrl ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await command.ExecuteNonQueryAsync();
        }
        return id;
    }

    /// <summary>The alert as the AlertManager stores it, and its "created" event as the alerts topic carries it.</summary>
    private async Task<AlertEventMessage> Raise(string severity, AlertType type = AlertType.Threshold, bool perMeter = true)
    {
        var alert = new AlertView
        {
            // A meter each: at most one alert of a type is open per region and meter.
            AlertId = Guid.NewGuid(), Type = type, Severity = severity, Region = Region, MeterId = perMeter ? $"MTR-{_nextEventId:D8}" : null,
            Message = $"{type.ToWireName()} {severity} in {Region}",
            Metadata = JsonDocument.Parse("{}").RootElement, Status = AlertStatus.Active, OccurrenceCount = 1,
            FirstSeenAt = _clock.GetUtcNow(), LastSeenAt = _clock.GetUtcNow(), CreatedAt = _clock.GetUtcNow(),
        };
        await using var command = Db.CreateCommand("""
            INSERT INTO alerts (alert_id, type, severity, region, message, status, first_seen_at, last_seen_at, meter_id)
            VALUES ($1, $2, $3, $4, $5, 'active', $6, $6, $7)
            """);
        command.Parameters.AddWithValue(alert.AlertId);
        command.Parameters.AddWithValue(type.ToWireName());
        command.Parameters.AddWithValue(severity);
        command.Parameters.AddWithValue(Region);
        command.Parameters.AddWithValue(alert.Message);
        command.Parameters.AddWithValue(_clock.GetUtcNow());
        command.Parameters.AddWithValue((object?)alert.MeterId ?? DBNull.Value);
        await command.ExecuteNonQueryAsync();
        return new AlertEventMessage(_nextEventId++, "created", "system", _clock.GetUtcNow(), alert);
    }

    /// <summary>What the AlertManager does on PUT .../acknowledge: the row changes, then the event is published.</summary>
    private async Task<AlertEventMessage> Acknowledge(AlertEventMessage raised, Guid by)
    {
        await using var command = Db.CreateCommand("UPDATE alerts SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3 WHERE alert_id = $1");
        command.Parameters.AddWithValue(raised.Alert.AlertId);
        command.Parameters.AddWithValue(by.ToString());
        command.Parameters.AddWithValue(_clock.GetUtcNow());
        await command.ExecuteNonQueryAsync();
        return new AlertEventMessage(_nextEventId++, "acknowledged", by.ToString(), _clock.GetUtcNow(),
            raised.Alert with { Status = AlertStatus.Acknowledged }, "on it");
    }

    private async Task SetSeverity(Guid alertId, string severity)
    {
        await using var command = Db.CreateCommand("UPDATE alerts SET severity = $2 WHERE alert_id = $1");
        command.Parameters.AddWithValue(alertId);
        command.Parameters.AddWithValue(severity);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<Guid> AddPolicy(string name, string? severity, params EscalationTier[] tiers)
    {
        var policy = new EscalationPolicy(Guid.NewGuid(), name, severity, null, null, tiers);
        Assert.True(await new EscalationStore(Db).SaveAsync(policy, "admin", create: true));
        return policy.PolicyId;
    }

    private static EscalationTier Tier(int waitMinutes, params Guid[] users) => new(users, [], TimeSpan.FromMinutes(waitMinutes));

    private List<(string To, string Subject)> Mails(string? to = null) =>
        _smtp.Messages.Select(m => (m.To.Single(), m.Message.Subject ?? "")).Where(m => to is null || m.Item1 == to).ToList();

    private async Task<int> Sent(string to) =>
        (int)await ScalarAsync<long>("SELECT count(*) FROM notification_log WHERE destination = $1 AND status = 'sent'", to);

    private async Task Advance(IActorRef manager, TimeSpan by)
    {
        _clock.Advance(by);
        await Check(manager);
    }

    [Fact]
    public async Task Should_remind_an_unacknowledged_alert_on_its_severity_schedule_and_stop_once_it_is_acknowledged()
    {
        var op = await AddUser("op@grid.test", "OPERATOR", [Region]);
        var manager = Start(Settings(new Dictionary<string, TimeSpan> { ["high"] = TimeSpan.FromMinutes(30) }));
        var raised = await Raise("high");
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, "alerts", raised)).Outcome);

        await Advance(manager, TimeSpan.FromMinutes(29));
        Assert.Equal(1, await Sent("op@grid.test"));
        await Advance(manager, TimeSpan.FromMinutes(2));
        await Advance(manager, TimeSpan.FromMinutes(30));
        Assert.Equal(3, await Sent("op@grid.test"));

        await Deliver(manager, "alerts", await Acknowledge(raised, op));
        await Advance(manager, TimeSpan.FromHours(3));
        await Advance(manager, TimeSpan.FromHours(3));

        await Eventually(() => Task.FromResult(_smtp.Messages.Count == 4), 10, "four emails");
        Assert.Equal(
        [
            "[HIGH] THRESHOLD alert in Pune-West",
            "[REMINDER HIGH] THRESHOLD alert in Pune-West is still unacknowledged",
            "[REMINDER HIGH] THRESHOLD alert in Pune-West is still unacknowledged",
            "Alert acknowledged in Pune-West: THRESHOLD",
        ], Mails().Select(m => m.Subject));
        Assert.Contains("Reminder 2:", _smtp.Messages[2].Message.TextBody);
        Assert.Equal(4, await Sent("op@grid.test"));
        var timeline = await new AlertStore(Db).EventsAsync(raised.Alert.AlertId, default);
        Assert.Equal(["notified", "reminded", "reminded"], timeline.Where(e => e.Channel is not null).Select(e => e.Action).Take(3));
        Assert.All(timeline.Where(e => e.Channel is not null), e => Assert.Equal(("email", "op@grid.test"), (e.Channel, e.Recipient)));
    }

    [Fact]
    public async Task Should_page_tier_2_of_the_policy_after_tier_1s_wait_and_not_before()
    {
        await AddUser("op@grid.test", "OPERATOR", [Region]);
        var lead = await AddUser("lead@grid.test", "OPERATOR", ["Nashik"]);
        var head = await AddUser("head@grid.test", "ADMIN", []);
        await AddPolicy("critical overloads", "critical", Tier(15, lead), Tier(30, head));
        var manager = Start(Settings());

        var raised = await Raise("critical");
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, "alerts", raised)).Outcome);
        Assert.Equal(1, await Sent("lead@grid.test"));

        await Advance(manager, TimeSpan.FromMinutes(14));
        Assert.Equal(0, await Sent("head@grid.test"));
        await Advance(manager, TimeSpan.FromMinutes(2));
        Assert.Equal(1, await Sent("head@grid.test"));
        await Advance(manager, TimeSpan.FromHours(2));
        Assert.Equal(1, await Sent("head@grid.test"));

        await Eventually(() => Task.FromResult(Mails("head@grid.test").Count == 1), 10, "the page");
        Assert.Equal("[ESCALATED CRITICAL] THRESHOLD alert in Pune-West", Mails("head@grid.test").Single().Subject);
        Assert.Contains("you are tier 2 of the escalation policy critical overloads", _smtp.Messages[^1].Message.TextBody);
        var escalated = Assert.Single(await new AlertStore(Db).EventsAsync(raised.Alert.AlertId, default), e => e.Action == "escalated");
        Assert.Equal("tier 2 of critical overloads paged: unacknowledged for 15 min", escalated.Note);
        Assert.Equal(T0.AddMinutes(16), escalated.At);
    }

    [Fact]
    public async Task Should_de_escalate_when_the_severity_falls_and_then_follow_the_lower_severitys_schedule()
    {
        await AddUser("op@grid.test", "OPERATOR", [Region]);
        var lead = await AddUser("lead@grid.test", "OPERATOR", ["Nashik"]);
        var head = await AddUser("head@grid.test", "ADMIN", []);
        await AddPolicy("critical", "critical", Tier(10, lead), Tier(10, head), Tier(10, lead));
        var manager = Start(Settings(new Dictionary<string, TimeSpan> { ["critical"] = TimeSpan.FromMinutes(5), ["high"] = TimeSpan.FromMinutes(60) }));
        var raised = await Raise("critical");
        await Deliver(manager, "alerts", raised);
        await Advance(manager, TimeSpan.FromMinutes(11));
        Assert.Equal(1, await Sent("head@grid.test"));

        await SetSeverity(raised.Alert.AlertId, "high");
        await Advance(manager, TimeSpan.FromMinutes(1));
        var timeline = await new AlertStore(Db).EventsAsync(raised.Alert.AlertId, default);
        var down = Assert.Single(timeline, e => e.Action == "de-escalated");
        Assert.Equal("severity fell from critical to high: back to tier 1, no escalation policy", down.Note);

        var opBefore = await Sent("op@grid.test");
        await Advance(manager, TimeSpan.FromMinutes(30));
        Assert.Equal(opBefore, await Sent("op@grid.test"));
        Assert.Equal(1, await Sent("head@grid.test"));
        await Advance(manager, TimeSpan.FromMinutes(31));
        Assert.Equal(opBefore + 1, await Sent("op@grid.test"));
        Assert.Equal(1, await Sent("head@grid.test"));
        timeline = await new AlertStore(Db).EventsAsync(raised.Alert.AlertId, default);
        Assert.Equal(["escalated", "de-escalated", "reminded"],
            timeline.Where(e => e.Action is "escalated" or "de-escalated" or "reminded").Select(e => e.Action).Distinct());
    }

    [Fact]
    public async Task Should_send_nothing_twice_when_a_new_owner_gets_the_alert_again_and_repeats_a_step_its_predecessor_sent_but_never_recorded()
    {
        await AddUser("op@grid.test", "OPERATOR", [Region]);
        var lead = await AddUser("lead@grid.test", "OPERATOR", ["Nashik"]);
        await AddPolicy("all", null, Tier(10), Tier(10, lead));
        var settings = Settings(new Dictionary<string, TimeSpan> { ["high"] = TimeSpan.FromMinutes(20) });
        var first = Start(settings);
        var raised = await Raise("high");
        await Deliver(first, "alerts", raised);
        await Advance(first, TimeSpan.FromMinutes(11));
        Assert.Equal(1, await Sent("lead@grid.test"));
        await first.GracefulStop(TimeSpan.FromSeconds(10));

        // The previous owner paged tier 2 and stopped before recording it: the row is back at its step before the page.
        await using (var command = Db.CreateCommand(
                         "UPDATE alert_escalations SET tier = 1, tier_since = $2, step = step - 1, last_notified_at = $2 WHERE alert_id = $1"))
        {
            command.Parameters.AddWithValue(raised.Alert.AlertId);
            command.Parameters.AddWithValue(T0);
            await command.ExecuteNonQueryAsync();
        }
        await using (var command = Db.CreateCommand("DELETE FROM alert_escalation_events WHERE alert_id = $1"))
        {
            command.Parameters.AddWithValue(raised.Alert.AlertId);
            await command.ExecuteNonQueryAsync();
        }

        var second = Start(settings);
        Assert.Equal(RecordHandled.Duplicate, await Deliver(second, "alerts", raised));
        Assert.Equal(1, (await Check(second)).Steps);
        Assert.Equal(1, await Sent("lead@grid.test"));
        Assert.Equal(1, await Sent("op@grid.test"));
        Assert.Equal(2, await ScalarAsync<int>("SELECT tier FROM alert_escalations WHERE alert_id = $1", raised.Alert.AlertId));

        await Advance(second, TimeSpan.FromMinutes(20));
        Assert.Equal(2, await Sent("op@grid.test"));
        Assert.Equal(2, await Sent("lead@grid.test"));
        await Eventually(() => Task.FromResult(_smtp.Messages.Count == 4), 10, "four emails");
        Assert.Equal(4, _smtp.Messages.Select(m => m.Message.Headers["X-SmartGrid-Notification"]).Distinct().Count());
    }

    [Fact]
    public async Task Should_gather_low_alerts_into_one_digest_email_while_a_critical_goes_at_once()
    {
        await AddUser("op@grid.test", "OPERATOR", [Region], minSeverity: "low");
        var manager = Start(Settings(digestBelow: "high") with { DigestInterval = TimeSpan.FromHours(1) });

        var low = await Raise("low", AlertType.Anomaly);
        Assert.Equal("sent:0,failed:0,digest:1", (await Deliver(manager, "alerts", low)).Outcome);
        _clock.Advance(TimeSpan.FromMinutes(20));
        await Deliver(manager, "alerts", await Raise("medium", AlertType.Outage));
        await Deliver(manager, "alerts", await Raise("medium", AlertType.Anomaly));
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, "alerts", await Raise("critical"))).Outcome);
        Assert.Equal(0, (await Check(manager)).Digests);
        await Eventually(() => Task.FromResult(_smtp.Messages.Count == 1), 10, "the critical email");

        await Advance(manager, TimeSpan.FromMinutes(41));
        await Advance(manager, TimeSpan.FromHours(2));
        await Eventually(() => Task.FromResult(_smtp.Messages.Count == 2), 10, "the digest");
        var digest = _smtp.Messages[1].Message;
        Assert.Equal("SmartGrid digest: 3 notifications", digest.Subject);
        Assert.Contains("- [LOW] ANOMALY alert in Pune-West (2026-03-02 09:00 UTC)", digest.TextBody);
        Assert.Contains("- [MEDIUM] OUTAGE alert in Pune-West (2026-03-02 09:20 UTC)", digest.TextBody);
        Assert.Contains("<li>[MEDIUM] ANOMALY alert in Pune-West (2026-03-02 09:20 UTC)</li>", digest.HtmlBody);
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM notification_log WHERE kind = 'digest' AND status = 'sent'"));
        var timeline = await new AlertStore(Db).EventsAsync(low.Alert.AlertId, default);
        Assert.Equal("sent in the digest email", Assert.Single(timeline, e => e.Action == "notified").Note);
    }

    [Fact]
    public async Task Should_hold_a_high_meter_alert_for_the_digest_but_send_a_high_region_alert_and_a_critical_meter_alert_at_once()
    {
        await AddUser("op@grid.test", "OPERATOR", [Region], minSeverity: "low");
        var manager = Start(Settings(digestBelow: "high") with { MeterDigestBelow = "critical" });

        Assert.Equal("sent:0,failed:0,digest:1", (await Deliver(manager, "alerts", await Raise("high", AlertType.Outage))).Outcome);
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, "alerts", await Raise("high", AlertType.Threshold, perMeter: false))).Outcome);
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, "alerts", await Raise("critical", AlertType.Anomaly))).Outcome);
        // Off (empty), a meter's alert follows DigestBelow like the others.
        var plain = Start(Settings(digestBelow: "high") with { MeterDigestBelow = "" });
        Assert.Equal("sent:1,failed:0", (await Deliver(plain, "alerts", await Raise("high", AlertType.Outage))).Outcome);
        await Eventually(() => Task.FromResult(_smtp.Messages.Count == 3), 10, "three emails at once");
    }

    [Fact]
    public async Task Should_choose_each_users_channels_by_alert_type_and_severity()
    {
        using var receiver = new WebhookReceiver();
        await AddUser("op@grid.test", "OPERATOR", [Region], minSeverity: "high", channels: "{email,webhook}", webhookUrl: receiver.Url, rules: """
            [{"types": ["OUTAGE"], "severities": [], "channels": ["webhook"]},
             {"types": ["ANOMALY"], "severities": ["low"], "channels": ["email"]},
             {"types": ["THRESHOLD"], "severities": [], "channels": []}]
            """);
        var manager = Start(Settings());

        Assert.Equal("sent:1,failed:0", (await Deliver(manager, "alerts", await Raise("high", AlertType.Outage))).Outcome);
        Assert.Single(receiver.Requests);
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, "alerts", await Raise("low", AlertType.Anomaly))).Outcome);
        Assert.Equal("no-recipients", (await Deliver(manager, "alerts", await Raise("critical"))).Outcome);
        Assert.Equal("no-recipients", (await Deliver(manager, "alerts", await Raise("medium", AlertType.Anomaly))).Outcome);
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, "alerts", await Raise("critical", AlertType.Anomaly))).Outcome);
        Assert.Equal(2, receiver.Requests.Count);
        await Eventually(() => Task.FromResult(_smtp.Messages.Count == 2), 10, "two emails");
        Assert.Equal(["[LOW] ANOMALY alert in Pune-West", "[CRITICAL] ANOMALY alert in Pune-West"], Mails().Select(m => m.Subject));
    }
}
