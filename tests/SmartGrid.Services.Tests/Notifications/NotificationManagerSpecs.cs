using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Contracts.Notifications;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tariffs;
using SmartGrid.Storage.Notifications;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests.Notifications;

public sealed class NotificationManagerSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private const string AlertsTopic = "alerts";
    private const string TariffTopic = "tariff_updates";
    private const string Secret = "test-webhook-secret";
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);

    private readonly SmtpSink _smtp = new();
    private readonly HttpClient _http = new();
    private long _nextEventId = 100;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _smtp.Dispose();
            _http.Dispose();
        }

        base.Dispose(disposing);
    }

    private NotificationSettings Settings(ConsumerOptions? consumer = null) => new()
    {
        Smtp = new SmtpSettings { Host = "127.0.0.1", Port = _smtp.Port, From = "grid@smartgrid.test" },
        // The receivers listen on loopback, which webhooks may reach only through the allow-list.
        Webhook = new WebhookSettings { AllowedTargets = ["127.0.0.1"], Timeout = TimeSpan.FromSeconds(3) },
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        // These specs are about sending at once; EscalationSpecs covers the digest.
        DigestBelow = "",
        Consumer = consumer ?? new ConsumerOptions { GroupId = NotificationSettings.GroupId, Topics = [AlertsTopic, TariffTopic] },
    };

    private IActorRef Start(NotificationSettings settings) =>
        Sys.ActorOf(NotificationManager.Props(settings, Db,
            [new EmailChannel(settings.Smtp), new WebhookChannel(settings.Webhook)]));

    /// <summary>All four channels, SMS and push through the provider APIs served by <paramref name="provider"/>.</summary>
    private IActorRef StartWithAllChannels(WebhookReceiver provider, TimeProvider time)
    {
        var baseUrl = new Uri(provider.Url).GetLeftPart(UriPartial.Authority);
        var settings = Settings() with
        {
            Sms = new SmsSettings { BaseUrl = baseUrl, AccountSid = "AC123", AuthToken = "tok", From = "+15550000" },
            Push = new PushSettings { BaseUrl = baseUrl, ProjectId = "smartgrid", AccessToken = "push-token" },
        };
        return Sys.ActorOf(NotificationManager.Props(settings, Db,
            [new EmailChannel(settings.Smtp), new WebhookChannel(settings.Webhook), new SmsChannel(_http, settings.Sms),
                new PushChannel(_http, settings.Push)], time: time));
    }

    private async Task SetQuietHours(Guid user, string phone, string pushToken, string start, string end)
    {
        await using var command = Db.CreateCommand(
            "UPDATE notification_preferences SET phone = $2, push_token = $3, quiet_hours_start = $4::time, quiet_hours_end = $5::time WHERE user_id = $1");
        command.Parameters.AddWithValue(user);
        command.Parameters.AddWithValue(phone);
        command.Parameters.AddWithValue(pushToken);
        command.Parameters.AddWithValue(start);
        command.Parameters.AddWithValue(end);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private async Task<Guid> AddUser(string email, string role, string[] regions, string[]? channels, string minSeverity = "medium",
        string? webhookUrl = null)
    {
        var id = Guid.NewGuid();
        await using (var command = Db.CreateCommand(
                         "INSERT INTO users (id, email, password_hash, role, operator_regions) VALUES ($1, $2, 'x', $3, $4)"))
        {
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(email);
            command.Parameters.AddWithValue(role);
            command.Parameters.AddWithValue(regions);
            await command.ExecuteNonQueryAsync();
        }

        if (channels is not null)
        {
            await using var command = Db.CreateCommand(
                "INSERT INTO notification_preferences (user_id, channels, min_severity, webhook_url, webhook_secret) VALUES ($1, $2, $3, $4, $5)");
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(channels);
            command.Parameters.AddWithValue(minSeverity);
            command.Parameters.AddWithValue((object?)webhookUrl ?? DBNull.Value);
            command.Parameters.AddWithValue(webhookUrl is null ? DBNull.Value : Secret);
            await command.ExecuteNonQueryAsync();
        }

        return id;
    }

    private async Task AddMeter(string meterId, string region, Guid? user)
    {
        await using var command = Db.CreateCommand("INSERT INTO meters (meter_id, region, user_id) VALUES ($1, $2, $3)");
        command.Parameters.AddWithValue(meterId);
        command.Parameters.AddWithValue(region);
        command.Parameters.AddWithValue((object?)user?.ToString() ?? DBNull.Value);
        await command.ExecuteNonQueryAsync();
    }

    private AlertEventMessage AlertEvent(string region, string severity = "high", string @event = "created", string? meterId = null) =>
        new(_nextEventId++, @event, "system", T0, new AlertView
        {
            AlertId = Guid.NewGuid(), Type = AlertType.Threshold, Severity = severity, Region = region, MeterId = meterId,
            Message = $"Region {region} overloaded: 91.0% of capacity", Metadata = JsonDocument.Parse("{}").RootElement,
            Status = AlertStatus.Active, OccurrenceCount = 1, FirstSeenAt = T0, LastSeenAt = T0, CreatedAt = T0,
        });

    private async Task<List<(Guid User, string Channel, string Status, int Attempts, string? Error, string Template)>> LogRows()
    {
        var rows = new List<(Guid, string, string, int, string?, string)>();
        await using var command = Db.CreateCommand(
            "SELECT user_id, channel, status, attempts, last_error, template FROM notification_log ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5)));
        return rows;
    }

    /// <summary>Verified the way the README tells a receiver to: HMAC-SHA256 of "timestamp.body" with the subscription's secret.</summary>
    private static void AssertSigned(ReceivedWebhook request, string secret = Secret)
    {
        var timestamp = request.Headers["X-SmartGrid-Timestamp"];
        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(request.Body).ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        Assert.Equal(expected, request.Headers["X-SmartGrid-Signature"]);
        Assert.InRange(long.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
    }

    [Fact]
    public async Task Should_email_the_operator_of_the_region_and_post_a_signed_webhook_for_an_alert_consumed_from_kafka()
    {
        using var receiver = new WebhookReceiver();
        var operatorId = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["email", "webhook"], webhookUrl: receiver.Url);
        await AddUser("other-op@grid.test", "OPERATOR", ["Nashik"], ["email", "webhook"], webhookUrl: receiver.Url);
        var alerts = NewTopic("alerts", 3);
        var tariffs = NewTopic("tariff_updates", 3);
        var group = "notification-service-group-" + Guid.NewGuid().ToString("N");
        Start(Settings(new ConsumerOptions
        {
            BootstrapServers = Fixture.Broker.BootstrapServers, GroupId = group, Topics = [alerts, tariffs],
            Properties = new Dictionary<string, string> { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" },
        }));

        var alert = AlertEvent("Pune-West");
        await Fixture.Producer.ProduceAsync(alerts,
            new Message<string, string> { Key = alert.Alert.AlertId.ToString(), Value = WireJson.Serialize(alert) });

        await Eventually(async () => (await LogRows()).Count(r => r.Status == "sent") == 2, 15, "email and webhook sent");
        await Eventually(() => CommittedEverything(group, alerts), 15, "offsets committed");

        var mail = Assert.Single(_smtp.Messages);
        Assert.Equal(["op@grid.test"], mail.To);
        Assert.Equal("[HIGH] THRESHOLD alert in Pune-West", mail.Message.Subject);
        Assert.Contains("A high THRESHOLD alert was raised in Pune-West.", mail.Message.TextBody);
        Assert.Contains("<strong>Pune-West</strong>", mail.Message.HtmlBody);
        Assert.Contains("91.0% of capacity", mail.Message.HtmlBody);

        var hook = Assert.Single(receiver.Requests);
        AssertSigned(hook);
        using var body = JsonDocument.Parse(hook.Body);
        Assert.Equal("alert_created", body.RootElement.GetProperty("template").GetString());
        Assert.Equal($"alert:{alert.EventId}:{operatorId}:webhook", body.RootElement.GetProperty("idempotency_key").GetString());
        Assert.Equal(alert.Alert.AlertId.ToString(), body.RootElement.GetProperty("data").GetProperty("alert_id").GetString());
        Assert.Equal(body.RootElement.GetProperty("idempotency_key").GetString(), hook.Headers["X-SmartGrid-Delivery"]);

        Assert.All(await LogRows(), r => Assert.Equal((operatorId, "sent", 1, "alert_created"), (r.User, r.Status, r.Attempts, r.Template)));
    }

    [Fact]
    public async Task Should_refuse_a_webhook_to_loopback_unless_the_allow_list_opens_that_address_and_port()
    {
        using var receiver = new WebhookReceiver();
        var port = new Uri(receiver.Url).Port;
        var operatorId = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["webhook"], webhookUrl: receiver.Url);

        // The same URL, as a user would have saved it before the gateway checked: the delivery itself refuses it.
        var closed = Start(Settings() with { Webhook = new WebhookSettings { AllowedTargets = [$"127.0.0.1:{port + 1}", "10.0.0.0/8"] } });
        Assert.Equal("sent:0,failed:1", (await Deliver(closed, AlertsTopic, AlertEvent("Pune-West"))).Outcome);
        Assert.Empty(receiver.Requests);
        var refused = Assert.Single(await LogRows());
        Assert.Equal((operatorId, "failed"), (refused.User, refused.Status));
        Assert.Contains("127.0.0.1 is a loopback address", refused.Error);

        var open = Start(Settings() with { Webhook = new WebhookSettings { AllowedTargets = [$"127.0.0.1:{port}"] } });
        Assert.Equal("sent:1,failed:0", (await Deliver(open, AlertsTopic, AlertEvent("Pune-West"))).Outcome);
        AssertSigned(Assert.Single(receiver.Requests));
    }

    [Fact]
    public async Task Should_follow_no_redirect_from_a_webhook_receiver()
    {
        using var inside = new WebhookReceiver();
        using var receiver = new WebhookReceiver(_ => 307, location: inside.Url);
        await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["webhook"], webhookUrl: receiver.Url);

        // Both are on the allow-list (any loopback port): only the redirect itself is refused.
        Assert.Equal("sent:0,failed:1", (await Deliver(Start(Settings()), AlertsTopic, AlertEvent("Pune-West"))).Outcome);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Empty(inside.Requests);
        Assert.Contains("307", Assert.Single(await LogRows()).Error);
    }

    [Fact]
    public async Task Should_send_no_webhook_without_a_subscription_secret()
    {
        using var receiver = new WebhookReceiver();
        var operatorId = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["email", "webhook"], webhookUrl: receiver.Url);
        await using (var command = Db.CreateCommand("UPDATE notification_preferences SET webhook_secret = NULL WHERE user_id = $1"))
        {
            command.Parameters.AddWithValue(operatorId);
            await command.ExecuteNonQueryAsync();
        }

        Assert.Equal("sent:1,failed:0", (await Deliver(Start(Settings()), AlertsTopic, AlertEvent("Pune-West"))).Outcome);
        Assert.Empty(receiver.Requests);
        Assert.Equal(["email"], (await LogRows()).Select(r => r.Channel));
    }

    [Fact]
    public async Task Should_send_nothing_twice_when_an_event_is_redelivered()
    {
        using var receiver = new WebhookReceiver();
        await AddUser("op@grid.test", "ADMIN", ["Pune-West"], ["email", "webhook"], webhookUrl: receiver.Url);
        var manager = Start(Settings());
        var alert = AlertEvent("Pune-West", "critical");

        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, alert)).Outcome);
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, AlertsTopic, alert));
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, AlertsTopic, alert));

        Assert.Single(_smtp.Messages);
        Assert.Single(receiver.Requests);
        Assert.Equal(2, (await LogRows()).Count);

        // The next lifecycle event of the same alert is a new event: notified once.
        var acknowledged = alert with { EventId = alert.EventId + 1, Event = "acknowledged", Actor = "op-42" };
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, acknowledged)).Outcome);
        Assert.Equal(2, _smtp.Messages.Count);
        Assert.Equal("Alert acknowledged in Pune-West: THRESHOLD", _smtp.Messages[1].Message.Subject);
        Assert.Contains("acknowledged by op-42", _smtp.Messages[1].Message.TextBody);
    }

    [Fact]
    public async Task Should_notify_no_one_on_a_channel_they_did_not_enable_or_below_their_severity()
    {
        using var receiver = new WebhookReceiver();
        var emailOnly = await AddUser("email-only@grid.test", "OPERATOR", ["Pune-West"], ["email"], webhookUrl: receiver.Url);
        await AddUser("critical-only@grid.test", "OPERATOR", ["Pune-West"], ["email", "webhook"], "critical", receiver.Url);
        await AddUser("elsewhere@grid.test", "OPERATOR", ["Nashik"], ["email"]);
        var resident = await AddUser("resident@grid.test", "USER", [], ["email", "webhook"], webhookUrl: receiver.Url);
        await AddMeter("MTR-00000001", "Pune-West", resident);
        var manager = Start(Settings());

        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "high"))).Outcome);

        var mail = Assert.Single(_smtp.Messages);
        Assert.Equal(["email-only@grid.test"], mail.To);
        Assert.Empty(receiver.Requests);
        Assert.Equal([(emailOnly, "email")], (await LogRows()).Select(r => (r.User, r.Channel)));

        // Nobody in the region wants a low alert.
        Assert.Equal("no-recipients", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "low"))).Outcome);
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task Should_notify_a_storm_once_through_its_incident_and_not_through_the_meter_alerts_attached_to_it()
    {
        await AddUser("operator@grid.test", "OPERATOR", ["Pune-West"], ["email"]);
        var manager = Start(Settings());
        var incident = AlertEvent("Pune-West", "critical");
        incident = incident with { Alert = incident.Alert with { Type = AlertType.Incident } };

        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, incident)).Outcome);
        foreach (var meter in new[] { "MTR-00000001", "MTR-00000002" })
        {
            var attached = AlertEvent("Pune-West", "high", meterId: meter);
            attached = attached with { Alert = attached.Alert with { Type = AlertType.Outage, IncidentId = incident.Alert.AlertId } };
            Assert.Equal(RecordHandled.Ignored, await Deliver(manager, AlertsTopic, attached));
        }

        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task Should_tell_webhooks_but_no_person_when_a_non_critical_alert_ends_by_itself()
    {
        using var receiver = new WebhookReceiver();
        await AddUser("operator@grid.test", "OPERATOR", ["Pune-West"], ["email", "webhook"], webhookUrl: receiver.Url);
        var manager = Start(Settings());

        var high = AlertEvent("Pune-West", "high");
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, high)).Outcome);
        var ended = AlertEvent("Pune-West", "high", "resolved") with { Alert = high.Alert with { Status = AlertStatus.Resolved } };
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, ended)).Outcome);
        Assert.Single(_smtp.Messages);
        Assert.Equal(2, receiver.Requests.Count);

        // Resolved by a person: the others who were told hear that it is handled.
        var byOperator = AlertEvent("Pune-West", "high", "resolved") with { Actor = "operator", Alert = high.Alert with { Status = AlertStatus.Resolved } };
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, byOperator)).Outcome);
        // A critical alert's end is told to everyone, whoever ended it.
        var critical = AlertEvent("Pune-West", "critical", "resolved");
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, critical)).Outcome);
        Assert.Equal(3, _smtp.Messages.Count);
    }

    [Fact]
    public async Task Should_retry_a_failing_webhook_three_times_then_log_it_failed_without_holding_up_email()
    {
        using var receiver = new WebhookReceiver(_ => 500);
        var operatorId = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["email", "webhook"], webhookUrl: receiver.Url);
        var manager = Start(Settings());

        var alert = AlertEvent("Pune-West");
        var watch = Stopwatch.StartNew();
        Assert.Equal("sent:1,failed:1", (await Deliver(manager, AlertsTopic, alert)).Outcome);
        watch.Stop();

        Assert.Equal(3, receiver.Requests.Count);
        Assert.All(receiver.Requests, r => AssertSigned(r));
        Assert.Single(_smtp.Messages);
        // Back-off 50 ms then 100 ms (plus jitter) between the three attempts.
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(150), $"took {watch.Elapsed}");

        var log = await LogRows();
        var webhook = Assert.Single(log, r => r.Channel == "webhook");
        Assert.Equal((operatorId, "failed", 3), (webhook.User, webhook.Status, webhook.Attempts));
        Assert.Contains("500", webhook.Error);
        var email = Assert.Single(log, r => r.Channel == "email");
        Assert.Equal(("sent", 1), (email.Status, email.Attempts));

        // A failed delivery is final: redelivering the event does not try again.
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, AlertsTopic, alert));
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Single(_smtp.Messages);
    }

    [Fact]
    public async Task Should_retry_a_webhook_that_fails_twice_and_deliver_it_once()
    {
        using var receiver = new WebhookReceiver(n => n <= 2 ? 500 : 200);
        await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["webhook"], webhookUrl: receiver.Url);
        var manager = Start(Settings());

        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West"))).Outcome);

        Assert.Equal(3, receiver.Requests.Count);
        var row = Assert.Single(await LogRows());
        Assert.Equal(("sent", 3), (row.Status, row.Attempts));
        Assert.Contains("500", row.Error);
    }

    [Fact]
    public async Task Should_send_sms_and_push_through_the_providers_http_apis()
    {
        using var provider = new WebhookReceiver();
        var baseUrl = new Uri(provider.Url).GetLeftPart(UriPartial.Authority);
        var settings = Settings() with
        {
            Sms = new SmsSettings { BaseUrl = baseUrl, AccountSid = "AC123", AuthToken = "tok", From = "+15550000" },
            Push = new PushSettings { BaseUrl = baseUrl, ProjectId = "smartgrid", AccessToken = "push-token" },
        };
        var id = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["sms", "push"]);
        await using (var command = Db.CreateCommand("UPDATE notification_preferences SET phone = '+15551234', push_token = 'device-1' WHERE user_id = $1"))
        {
            command.Parameters.AddWithValue(id);
            await command.ExecuteNonQueryAsync();
        }

        var manager = Sys.ActorOf(NotificationManager.Props(settings, Db,
            [new EmailChannel(settings.Smtp), new SmsChannel(_http, settings.Sms), new PushChannel(_http, settings.Push)]));
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West"))).Outcome);

        var sms = Assert.Single(provider.Requests, r => r.Path == "/2010-04-01/Accounts/AC123/Messages.json");
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("AC123:tok")), sms.Headers["Authorization"]);
        var form = Encoding.UTF8.GetString(sms.Body).Split('&').Select(p => p.Split('=')).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
        Assert.Equal(("+15551234", "+15550000"), (form["To"], form["From"]));
        Assert.StartsWith("[HIGH] THRESHOLD alert in Pune-West: A high THRESHOLD alert", form["Body"]);

        var push = Assert.Single(provider.Requests, r => r.Path == "/v1/projects/smartgrid/messages:send");
        Assert.Equal("Bearer push-token", push.Headers["Authorization"]);
        using var body = JsonDocument.Parse(push.Body);
        var message = body.RootElement.GetProperty("message");
        Assert.Equal("device-1", message.GetProperty("token").GetString());
        Assert.Equal("[HIGH] THRESHOLD alert in Pune-West", message.GetProperty("notification").GetProperty("title").GetString());
        Assert.Equal("alert_created", message.GetProperty("data").GetProperty("template").GetString());
        Assert.Empty(_smtp.Messages);
        Assert.Equal(["push", "sms"], (await LogRows()).Select(r => r.Channel).Order());
    }

    [Fact]
    public async Task Should_notify_the_users_of_the_region_of_a_tariff_change_with_the_matching_template()
    {
        using var receiver = new WebhookReceiver();
        var alice = await AddUser("alice@grid.test", "USER", [], ["email"]);
        var bob = await AddUser("bob@grid.test", "USER", [], ["webhook"], webhookUrl: receiver.Url);
        var carol = await AddUser("carol@grid.test", "USER", [], ["email"]);
        var dave = await AddUser("dave@grid.test", "USER", [], channels: null);
        await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["email"]);
        await AddMeter("MTR-00000001", "Pune-West", alice);
        await AddMeter("MTR-00000002", "Pune-West", bob);
        await AddMeter("MTR-00000003", "Pune-West", alice);
        await AddMeter("MTR-00000004", "Nashik", carol);
        await AddMeter("MTR-00000005", "Pune-West", dave);
        var manager = Start(Settings());

        var increase = new TariffUpdateMessage
        {
            TariffId = Guid.NewGuid(), Region = "Pune-West", OldPrice = 8.00m, NewPrice = 9.60m, EffectiveFrom = T0.AddMinutes(15),
            Reason = TariffReasons.LoadBased, TriggeredBy = TariffReasons.System, LoadPercent = 82,
        };
        Assert.Equal("sent:3,failed:0", (await Deliver(manager, TariffTopic, increase)).Outcome);

        // dave never saved preferences: the default (email to the account's address) applies.
        Assert.Equal(["alice@grid.test", "dave@grid.test"], _smtp.Messages.SelectMany(m => m.To).Order());
        var mail = Assert.Single(_smtp.Messages, m => m.To.Contains("alice@grid.test"));
        Assert.Equal("Electricity price up in Pune-West: 9.60 per kWh", mail.Message.Subject);
        Assert.Contains("rises from 8.00 to 9.60 per kWh (+20%) from 2024-01-15 14:15 UTC (load-based)", mail.Message.TextBody);
        var hook = Assert.Single(receiver.Requests);
        AssertSigned(hook);
        using (var body = JsonDocument.Parse(hook.Body))
            Assert.Equal("tariff_increased", body.RootElement.GetProperty("template").GetString());
        Assert.Equal([(alice, "email"), (dave, "email"), (bob, "webhook")],
            (await LogRows()).Where(r => r.Template == "tariff_increased").Select(r => (r.User, r.Channel)).OrderBy(r => r.Channel).ThenBy(r => r.User == dave));

        var decrease = increase with { TariffId = Guid.NewGuid(), OldPrice = 9.60m, NewPrice = 8.00m, EffectiveFrom = T0.AddMinutes(30) };
        Assert.Equal("sent:3,failed:0", (await Deliver(manager, TariffTopic, decrease)).Outcome);
        var down = Assert.Single(_smtp.Messages.Skip(2), m => m.To.Contains("alice@grid.test"));
        Assert.Equal("Electricity price down in Pune-West: 8.00 per kWh", down.Message.Subject);
        Assert.Contains("(-16.7%)", down.Message.TextBody);
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, TariffTopic, increase));
        Assert.Equal(4, _smtp.Messages.Count);
    }

    [Fact]
    public async Task Should_email_a_user_without_preferences_at_their_account_address_for_an_alert_on_their_meter()
    {
        using var receiver = new WebhookReceiver();
        var resident = await AddUser("resident@grid.test", "USER", [], channels: null);
        var neighbour = await AddUser("neighbour@grid.test", "USER", [], channels: null);
        await AddMeter("MTR-00000001", "Pune-West", resident);
        await AddMeter("MTR-00000002", "Pune-West", neighbour);
        var manager = Start(Settings());

        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "medium", meterId: "MTR-00000001"))).Outcome);

        var mail = Assert.Single(_smtp.Messages);
        Assert.Equal(["resident@grid.test"], mail.To);
        Assert.Equal("[MEDIUM] THRESHOLD alert in Pune-West", mail.Message.Subject);
        var row = Assert.Single(await LogRows());
        Assert.Equal((resident, "email", "sent", "alert_created"), (row.User, row.Channel, row.Status, row.Template));

        // The default threshold is medium: a low alert on the same meter tells no one.
        Assert.Equal("no-recipients", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "low", meterId: "MTR-00000001"))).Outcome);
        Assert.Single(_smtp.Messages);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task Should_notify_an_operator_without_preferences_of_the_alerts_of_their_regions_from_the_default_severity()
    {
        var operatorId = await AddUser("op@grid.test", "OPERATOR", ["Nashik", "Pune-West"], channels: null);
        var adminId = await AddUser("admin@grid.test", "ADMIN", ["Pune-West"], channels: null);
        await AddUser("elsewhere@grid.test", "OPERATOR", ["Nashik"], channels: null);
        await AddUser("resident@grid.test", "USER", [], channels: null);
        var manager = Start(Settings());

        Assert.Equal("medium", NotificationDefaults.MinSeverity); // the alerts below straddle it
        Assert.Equal("no-recipients", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "low"))).Outcome);
        Assert.Empty(_smtp.Messages);

        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "medium"))).Outcome);
        Assert.Equal(["admin@grid.test", "op@grid.test"], _smtp.Messages.SelectMany(m => m.To).Order());
        Assert.Equal([(adminId, "email"), (operatorId, "email")],
            (await LogRows()).Select(r => (r.User, r.Channel)).OrderBy(r => r.User == operatorId));
    }

    [Fact]
    public async Task Should_share_its_defaults_with_the_columns_of_notification_preferences()
    {
        // A row saved with nothing but the user gets the column defaults; they must be the ones a user without a row is notified with.
        var id = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], channels: null);
        await using (var insert = Db.CreateCommand("INSERT INTO notification_preferences (user_id) VALUES ($1)"))
        {
            insert.Parameters.AddWithValue(id);
            await insert.ExecuteNonQueryAsync();
        }

        await using var command = Db.CreateCommand("SELECT channels, min_severity FROM notification_preferences WHERE user_id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(NotificationDefaults.Channels, reader.GetFieldValue<string[]>(0));
        Assert.Equal(NotificationDefaults.MinSeverity, reader.GetString(1));
    }

    [Fact]
    public async Task Should_hold_back_sms_and_push_during_wrapped_quiet_hours_but_send_email_webhook_and_critical_alerts()
    {
        using var receiver = new WebhookReceiver();
        using var provider = new WebhookReceiver();
        var operatorId = await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["email", "sms", "push", "webhook"], "low", receiver.Url);
        await SetQuietHours(operatorId, "+15551234", "device-1", "22:00", "06:00");
        var resident = await AddUser("resident@grid.test", "USER", [], ["email", "sms"]);
        await SetQuietHours(resident, "+15559876", "device-2", "22:00", "06:00");
        await AddMeter("MTR-00000001", "Pune-West", resident);
        // 23:30 UTC, before midnight inside the 22:00–06:00 window; 05:59 below is after it.
        var clock = new ManualTime(new DateTimeOffset(2024, 1, 15, 23, 30, 0, TimeSpan.Zero));
        var manager = StartWithAllChannels(provider, clock);

        var high = AlertEvent("Pune-West", "high");
        Assert.Equal("sent:2,failed:0,suppressed:2", (await Deliver(manager, AlertsTopic, high)).Outcome);
        Assert.Single(_smtp.Messages);
        Assert.Single(receiver.Requests);
        Assert.Empty(provider.Requests);
        var log = await LogRows();
        Assert.Equal([("email", "sent", 1), ("push", "suppressed_quiet_hours", 0), ("sms", "suppressed_quiet_hours", 0), ("webhook", "sent", 1)],
            log.Select(r => (r.Channel, r.Status, r.Attempts)).OrderBy(r => r.Channel));
        Assert.All(log, r => Assert.Null(r.Error));

        // Held back is final: the redelivered event neither sends it now nor counts it as a failure.
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, AlertsTopic, high));
        Assert.Empty(provider.Requests);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM notification_log WHERE status IN ('pending', 'failed')"));

        // Critical passes quiet hours on every channel.
        Assert.Equal("sent:4,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "critical"))).Outcome);
        Assert.Equal(2, provider.Requests.Count);
        Assert.Single(provider.Requests, r => r.Path == "/2010-04-01/Accounts/AC123/Messages.json");
        Assert.Single(provider.Requests, r => r.Path == "/v1/projects/smartgrid/messages:send");

        // After midnight, still quiet: a tariff change is never critical, so the resident's SMS waits but the email goes.
        clock.Now = new DateTimeOffset(2024, 1, 16, 5, 59, 0, TimeSpan.Zero);
        var tariff = new TariffUpdateMessage
        {
            TariffId = Guid.NewGuid(), Region = "Pune-West", OldPrice = 8.00m, NewPrice = 9.60m, EffectiveFrom = clock.Now,
            Reason = TariffReasons.LoadBased, TriggeredBy = TariffReasons.System, LoadPercent = 82,
        };
        Assert.Equal("sent:1,failed:0,suppressed:1", (await Deliver(manager, TariffTopic, tariff)).Outcome);
        Assert.Equal(2, provider.Requests.Count);
        Assert.Equal(["resident@grid.test"], _smtp.Messages[^1].To);
        Assert.Equal([("email", "sent"), ("sms", "suppressed_quiet_hours")],
            (await LogRows()).Where(r => r.User == resident).Select(r => (r.Channel, r.Status)).Order());

        // 06:00, the end of the window, is no longer quiet.
        clock.Now = new DateTimeOffset(2024, 1, 16, 6, 0, 0, TimeSpan.Zero);
        Assert.Equal("sent:4,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "medium"))).Outcome);
        Assert.Equal(4, provider.Requests.Count);
    }

    [Fact]
    public async Task Should_send_a_flapping_alert_at_most_the_limit_per_recipient_and_channel_and_log_the_rest_rate_limited()
    {
        using var receiver = new WebhookReceiver();
        var flooded = await AddUser("flooded@grid.test", "OPERATOR", ["Pune-West"], ["email", "webhook"], webhookUrl: receiver.Url);
        var other = await AddUser("other@grid.test", "OPERATOR", ["Nashik"], ["email"]);
        var clock = new ManualTime(T0);
        var settings = Settings() with { MaxPerRecipientPerHour = 3 };
        // Each manager is what another node would start on handover: the count is in Redis, not in the actor.
        IActorRef StartManager() => Sys.ActorOf(NotificationManager.Props(settings, Db,
            [new EmailChannel(settings.Smtp), new WebhookChannel(settings.Webhook)], time: clock,
            rateLimit: new RecipientRateLimit(Fixture.Redis, Keys, settings.MaxPerRecipientPerHour)));
        var manager = StartManager();

        // One alert flapping for ten minutes: raised, resolved by its operator, raised again…
        var first = AlertEvent("Pune-West");
        var flapping = new List<AlertEventMessage>();
        var outcomes = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            clock.Now = T0.AddMinutes(i);
            var e = AlertEvent("Pune-West", "high", i % 2 == 0 ? "created" : "resolved") with { Alert = first.Alert, Actor = i % 2 == 0 ? "system" : "operator" };
            flapping.Add(e);
            outcomes.Add((await Deliver(manager, AlertsTopic, e)).Outcome);
        }

        Assert.Equal([.. Enumerable.Repeat("sent:2,failed:0", 3), .. Enumerable.Repeat("sent:0,failed:0,rate_limited:2", 7)], outcomes);
        Assert.Equal(3, _smtp.Messages.Count);
        Assert.Equal(3, receiver.Requests.Count);
        var log = await LogRows();
        foreach (var channel in new[] { "email", "webhook" })
        {
            Assert.Equal(3, log.Count(r => (r.User, r.Channel, r.Status) == (flooded, channel, "sent")));
            Assert.Equal(7, log.Count(r => (r.User, r.Channel, r.Status) == (flooded, channel, NotificationLog.RateLimited)));
        }

        Assert.All(log.Where(r => r.Status == NotificationLog.RateLimited), r => Assert.Equal("over 3 per hour on " + r.Channel, r.Error));

        // Final: a redelivered event that was held back is not sent now either.
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, AlertsTopic, flapping[^1]));

        // Another user's limit is their own.
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Nashik"))).Outcome);
        Assert.Equal("sent:1,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Nashik"))).Outcome);
        Assert.Equal(2, _smtp.Messages.Count(m => m.To.SequenceEqual(["other@grid.test"])));
        Assert.DoesNotContain(await LogRows(), r => r.User == other && r.Status != "sent");

        // A critical alert still reaches the flooded user.
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West", "critical"))).Outcome);

        // The manager moves to another node: the limit holds.
        Sys.Stop(manager);
        manager = StartManager();
        clock.Now = T0.AddMinutes(30);
        Assert.Equal("sent:0,failed:0,rate_limited:2", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West"))).Outcome);

        // The hour slides: an hour after the first notification one slot is free again, not three.
        clock.Now = T0.AddMinutes(60).AddSeconds(30);
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West"))).Outcome);
        Assert.Equal("sent:0,failed:0,rate_limited:2", (await Deliver(manager, AlertsTopic, AlertEvent("Pune-West"))).Outcome);
        Assert.Equal(3 + 2 + 1 + 1, _smtp.Messages.Count);

        // The count expires with its window: a user who stops flapping leaves nothing behind in Redis.
        var ttl = await Redis.KeyTimeToLiveAsync(Keys.NotificationRate(flooded, "email"));
        Assert.InRange(ttl ?? TimeSpan.MaxValue, TimeSpan.FromMinutes(50), RecipientRateLimit.Window);
    }
}
