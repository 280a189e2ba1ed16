using System.Text;
using Akka.Actor;
using Confluent.Kafka;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tariffs;
using SmartGrid.Services.Tests.Notifications;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>
/// Bad records on the managers' real Kafka topics: logged with their key, sent to the dead-letter
/// topic with a reason, their offsets committed; the good records around them take effect.
/// </summary>
public sealed class DeadLetterSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);
    private readonly string _deadLetters = $"dead_letters-{Guid.NewGuid():N}";
    private readonly string _group = "dl-" + Guid.NewGuid().ToString("N");

    private ConsumerOptions Consumer(params string[] topics)
    {
        Fixture.Broker.CreateTopic(_deadLetters, 1);
        return new ConsumerOptions
        {
            BootstrapServers = Fixture.Broker.BootstrapServers, GroupId = _group, Topics = topics, DeadLetterTopic = _deadLetters,
            Properties = new Dictionary<string, string> { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" },
        };
    }

    private Task<DeliveryResult<string, string>> Produce(string topic, string key, string value) =>
        Fixture.Producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = value });

    private Task<DeliveryResult<string, string>> Produce(string topic, string key, object value) => Produce(topic, key, WireJson.Serialize(value));

    /// <summary>The dead letters as key → (reason, source topic).</summary>
    private Dictionary<string, (string Reason, string Topic)> DeadLetters() =>
        ReadAll(_deadLetters).ToDictionary(r => r.Message.Key, r => (Header(r, "reason"), Header(r, "source-topic")));

    private static string Header(ConsumeResult<string, string> record, string name) =>
        Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes(name));

    private static RegionalAggregateMessage Window(string region, int minute, double load, string size) => new()
    {
        Region = region, WindowSize = size, WindowStart = T0.AddMinutes(minute),
        WindowEnd = T0.AddMinutes(minute + (size == "1m" ? 1 : 15)), MeterCount = 10, CapacityKw = 3000, LoadPercentage = load, Revision = 1,
    };

    private static Anomaly Anomaly(string meter) => new()
    {
        MeterId = meter, Region = "Nashik", Kind = AnomalyKind.Spike, Timestamp = T0, BaselineKw = 1, ActualKw = 3.5,
        DeviationPercent = 250, Severity = Severity.High,
    };

    [Fact]
    public async Task Should_dead_letter_bad_regional_aggregates_and_anomalies_and_apply_the_good_ones_around_them()
    {
        var regional = NewTopic("regional", 3);
        var anomalies = NewTopic("anomalies", 3);
        var alerts = NewTopic("alerts", 3);
        await Produce(anomalies, "MTR-00000001", Anomaly("MTR-00000001"));
        await Produce(anomalies, "MTR-BAD-1", "{\"meter_id\": \"MTR-BAD-1\", ");
        await Produce(anomalies, "MTR-BAD-2", Anomaly("MTR-BAD-2") with { Region = "" });
        await Produce(anomalies, "MTR-00000002", Anomaly("MTR-00000002"));
        await Produce(regional, "Nashik-5m", Window("Nashik", 0, 97, "5m"));
        foreach (var minute in new[] { 0, 1, 2 })
            await Produce(regional, "Nashik", Window("Nashik", minute, 97, "1m"));

        await EventFilter.Error(contains: "with key MTR-BAD-1").ExpectAsync(1, async () =>
        {
            Sys.ActorOf(AlertManager.Props(new AlertSettings { AlertsTopic = alerts, Consumer = Consumer(regional, anomalies) }, Db,
                Fixture.Redis, Keys, Fixture.Producer));
            await Eventually(async () => await ScalarAsync<long>("SELECT count(*) FROM alerts") == 3, 30, "three alerts");
        }, TimeSpan.FromSeconds(40));

        Assert.Equal(["ANOMALY/MTR-00000001", "ANOMALY/MTR-00000002", "THRESHOLD/-"],
            (await Alerts()).Order());
        await Eventually(() => Task.FromResult(DeadLetters().Count == 3), 15, "three dead letters");
        var dead = DeadLetters();
        Assert.Equal(anomalies, dead["MTR-BAD-1"].Topic);
        Assert.Contains("JsonException", dead["MTR-BAD-1"].Reason);
        Assert.Contains("region: is required", dead["MTR-BAD-2"].Reason);
        Assert.Equal(regional, dead["Nashik-5m"].Topic);
        Assert.Contains("window_size", dead["Nashik-5m"].Reason);
        await Eventually(async () => await CommittedEverything(_group, regional) && await CommittedEverything(_group, anomalies), 20,
            "offsets committed");
    }

    [Fact]
    public async Task Should_dead_letter_bad_overrides_and_loads_of_the_tariff_manager()
    {
        var regional = NewTopic("regional", 3);
        var overrides = NewTopic("overrides", 3);
        var updates = NewTopic("tariff_updates", 3);
        await Produce(overrides, "Nashik-both", new TariffOverrideMessage
        {
            Region = "Nashik", PricePerKwh = 9m, Percentage = 10m, ValidFrom = T0, ValidTo = T0.AddHours(1),
        });
        await Produce(regional, "Nashik-no-load", "{\"region\": \"Nashik\", \"window_size\": \"15m\", \"window_start\": \"2024-01-15T14:00:00Z\"}");
        await Produce(regional, "Nashik", Window("Nashik", 0, 82, "15m"));

        var settings = new TariffSettings { TariffUpdatesTopic = updates, Consumer = Consumer(regional, overrides) };
        Sys.ActorOf(TariffManager.Props(settings, Db, Fixture.Redis, Keys, Fixture.Producer));

        await Eventually(async () => await ScalarAsync<long>("SELECT count(*) FROM tariffs WHERE reason = 'load-based'") == 1, 30,
            "the load-based tariff");
        Assert.Equal(9.60m, await ScalarAsync<decimal>("SELECT price_per_kwh FROM tariffs WHERE reason = 'load-based'"));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM tariff_overrides"));
        await Eventually(() => Task.FromResult(DeadLetters().Count == 2), 15, "two dead letters");
        var dead = DeadLetters();
        Assert.Contains("exactly one of them", dead["Nashik-both"].Reason);
        Assert.Contains("load_percentage", dead["Nashik-no-load"].Reason);
        await Eventually(async () => await CommittedEverything(_group, regional) && await CommittedEverything(_group, overrides), 20,
            "offsets committed");
    }

    [Fact]
    public async Task Should_dead_letter_bad_alert_events_and_tariff_updates_of_the_notification_manager()
    {
        using var smtp = new SmtpSink();
        await using (var command = Db.CreateCommand("""
                         INSERT INTO users (id, email, password_hash, role, operator_regions)
                         VALUES ('7f7f7f7f-0000-0000-0000-000000000001', 'op@grid.test', 'x', 'OPERATOR', '{Nashik}');
                         INSERT INTO notification_preferences (user_id, channels) VALUES ('7f7f7f7f-0000-0000-0000-000000000001', '{email}');
                         """))
            await command.ExecuteNonQueryAsync();
        var alerts = NewTopic("alerts", 3);
        var tariffs = NewTopic("tariff_updates", 3);
        await Produce(alerts, "alert-without-alert", "{\"event_id\": 1, \"event\": \"created\", \"actor\": \"system\"}");
        await Produce(tariffs, "Nashik-negative", new TariffUpdateMessage
        {
            TariffId = Guid.NewGuid(), Region = "Nashik", OldPrice = 8m, NewPrice = -1m, EffectiveFrom = T0, Reason = "load-based", TriggeredBy = "system",
        });
        var alertId = Guid.NewGuid();
        await Produce(alerts, alertId.ToString(), new AlertEventMessage(2, "created", "system", T0, new AlertView
        {
            AlertId = alertId, Type = AlertType.Outage, Severity = "critical", Region = "Nashik", Message = "Region Nashik silent",
            Metadata = System.Text.Json.JsonDocument.Parse("{}").RootElement, Status = AlertStatus.Active,
        }));

        var settings = new NotificationSettings
        {
            Smtp = new SmtpSettings { Port = smtp.Port }, RetryBaseDelay = TimeSpan.FromMilliseconds(50), Consumer = Consumer(alerts, tariffs),
        };
        Sys.ActorOf(NotificationManager.Props(settings, Db, [new EmailChannel(settings.Smtp)]));

        await Eventually(() => Task.FromResult(smtp.Messages.Count == 1), 30, "the email");
        Assert.Equal("[CRITICAL] OUTAGE alert in Nashik", smtp.Messages[0].Message.Subject);
        await Eventually(() => Task.FromResult(DeadLetters().Count == 2), 15, "two dead letters");
        var dead = DeadLetters();
        Assert.Contains("alert: is required", dead["alert-without-alert"].Reason);
        Assert.Contains("new_price", dead["Nashik-negative"].Reason);
        await Eventually(async () => await CommittedEverything(_group, alerts) && await CommittedEverything(_group, tariffs), 20,
            "offsets committed");
        Assert.Single(smtp.Messages);
    }

    private async Task<List<string>> Alerts()
    {
        var rows = new List<string>();
        await using var command = Db.CreateCommand("SELECT type, meter_id FROM alerts");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add($"{reader.GetString(0)}/{(reader.IsDBNull(1) ? "-" : reader.GetString(1))}");
        return rows;
    }
}
