using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tariffs;
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
        Webhook = new WebhookSettings { Secret = Secret, Timeout = TimeSpan.FromSeconds(3) },
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        Consumer = consumer ?? new ConsumerOptions { GroupId = NotificationSettings.GroupId, Topics = [AlertsTopic, TariffTopic] },
    };

    private IActorRef Start(NotificationSettings settings) =>
        Sys.ActorOf(NotificationManager.Props(settings, Db,
            [new EmailChannel(settings.Smtp), new WebhookChannel(_http, settings.Webhook)]));

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
                "INSERT INTO notification_preferences (user_id, channels, min_severity, webhook_url) VALUES ($1, $2, $3, $4)");
            command.Parameters.AddWithValue(id);
            command.Parameters.AddWithValue(channels);
            command.Parameters.AddWithValue(minSeverity);
            command.Parameters.AddWithValue((object?)webhookUrl ?? DBNull.Value);
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
            AlertId = Guid.NewGuid(), Type = AlertTypes.Threshold, Severity = severity, Region = region, MeterId = meterId,
            Message = $"Region {region} overloaded: 91.0% of capacity", Metadata = JsonDocument.Parse("{}").RootElement,
            Status = AlertStatuses.Active, OccurrenceCount = 1, FirstSeenAt = T0, LastSeenAt = T0, CreatedAt = T0,
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

    private static void AssertSigned(ReceivedWebhook request)
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), request.Body));
        Assert.Equal(expected, request.Headers["X-SmartGrid-Signature"]);
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
        await AddUser("no-prefs@grid.test", "OPERATOR", ["Pune-West"], null);
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
        Assert.All(receiver.Requests, AssertSigned);
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
        await AddUser("op@grid.test", "OPERATOR", ["Pune-West"], ["email"]);
        await AddMeter("MTR-00000001", "Pune-West", alice);
        await AddMeter("MTR-00000002", "Pune-West", bob);
        await AddMeter("MTR-00000003", "Pune-West", alice);
        await AddMeter("MTR-00000004", "Nashik", carol);
        var manager = Start(Settings());

        var increase = new TariffUpdateMessage
        {
            TariffId = Guid.NewGuid(), Region = "Pune-West", OldPrice = 8.00m, NewPrice = 9.60m, EffectiveFrom = T0.AddMinutes(15),
            Reason = TariffReasons.LoadBased, TriggeredBy = TariffReasons.System, LoadPercent = 82,
        };
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, TariffTopic, increase)).Outcome);

        var mail = Assert.Single(_smtp.Messages);
        Assert.Equal(["alice@grid.test"], mail.To);
        Assert.Equal("Electricity price up in Pune-West: 9.60 per kWh", mail.Message.Subject);
        Assert.Contains("rises from 8.00 to 9.60 per kWh (+20%) from 2024-01-15 14:15 UTC (load-based)", mail.Message.TextBody);
        var hook = Assert.Single(receiver.Requests);
        AssertSigned(hook);
        using (var body = JsonDocument.Parse(hook.Body))
            Assert.Equal("tariff_increased", body.RootElement.GetProperty("template").GetString());
        Assert.Equal([(alice, "tariff_increased"), (bob, "tariff_increased")],
            (await LogRows()).Select(r => (r.User, r.Template)).OrderBy(r => r.User == bob));

        var decrease = increase with { TariffId = Guid.NewGuid(), OldPrice = 9.60m, NewPrice = 8.00m, EffectiveFrom = T0.AddMinutes(30) };
        Assert.Equal("sent:2,failed:0", (await Deliver(manager, TariffTopic, decrease)).Outcome);
        Assert.Equal("Electricity price down in Pune-West: 8.00 per kWh", _smtp.Messages[1].Message.Subject);
        Assert.Contains("(-16.7%)", _smtp.Messages[1].Message.TextBody);
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, TariffTopic, increase));
        Assert.Equal(2, _smtp.Messages.Count);
    }
}
