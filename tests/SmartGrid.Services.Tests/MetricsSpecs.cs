using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tariffs;
using SmartGrid.Services.Tests.Notifications;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>The SmartGrid.Services instruments, read with a MeterListener while the managers do their work.</summary>
public sealed class MetricsSpecs : ServiceSpec
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);

    // Instruments are static and other specs may run meanwhile: this spec's region is its own.
    private readonly string _region = $"Metrics-{Guid.NewGuid():N}"[..20];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, string> Tags)> _measurements = new();

    public MetricsSpecs(ServicesFixture fixture, ITestOutputHelper output) : base(fixture, output)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServicesMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _measurements.Enqueue((instrument.Name, value,
                tags.ToArray().ToDictionary(t => t.Key, t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""))));
        _listener.Start();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _listener.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Sum per instrument and tag set ("k=v,k=v"), of this spec's region only.</summary>
    private Dictionary<string, long> Recorded(string instrument, string regionTag = "region") =>
        _measurements.Where(m => m.Instrument == instrument && (!m.Tags.ContainsKey(regionTag) || m.Tags[regionTag] == _region))
            .GroupBy(m => string.Join(",", m.Tags.Where(t => t.Key != regionTag).OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}")))
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));

    [Fact]
    public async Task Should_count_alerts_created_and_their_transitions_by_type_and_severity()
    {
        Fixture.Broker.CreateTopic("alerts-metrics", 1);
        var manager = Sys.ActorOf(AlertManager.Props(new AlertSettings { AlertsTopic = "alerts-metrics" }, Db, Fixture.Redis, Keys, Fixture.Producer));
        var anomaly = new Anomaly
        {
            MeterId = "MTR-00000077", Region = _region, Kind = AnomalyKind.Spike, Timestamp = T0, BaselineKw = 1, ActualKw = 5.2,
            DeviationPercent = 420, Severity = Severity.Critical,
        };
        await Deliver(manager, "anomalies", anomaly);
        await Deliver(manager, "anomalies", anomaly with { Timestamp = T0.AddSeconds(10) });
        var id = await ScalarAsync<Guid>("SELECT alert_id FROM alerts");
        await manager.Ask<AlertCommandSucceeded>(new AcknowledgeAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10));

        // The specs of the services collection run one at a time: what the listener saw is this spec's.
        // A repeat of the open alert is not a new alert.
        Assert.Equal(new Dictionary<string, long> { ["severity=critical,type=ANOMALY"] = 1 }, Recorded("alerts.created"));
        Assert.Equal(new Dictionary<string, long>
        {
            ["actor=operator,transition=acknowledged,type=ANOMALY"] = 1,
            ["actor=operator,transition=resolved,type=ANOMALY"] = 1,
        }, Recorded("alerts.transitions"));
    }

    [Fact]
    public async Task Should_count_tariff_updates_by_region_and_reason()
    {
        Fixture.Broker.CreateTopic("tariff-updates-metrics", 1);
        var manager = Sys.ActorOf(TariffManager.Props(new TariffSettings { TariffUpdatesTopic = "tariff-updates-metrics" }, Db, Fixture.Redis, Keys,
            Fixture.Producer));
        var window = new RegionalAggregateMessage
        {
            Region = _region, WindowSize = "15m", WindowStart = T0, WindowEnd = T0.AddMinutes(15), CapacityKw = 3000, LoadPercentage = 82, Revision = 1,
        };
        Assert.Equal("changed", (await Deliver(manager, "regional_aggregates", window)).Outcome);
        Assert.Equal("duplicate", (await Deliver(manager, "regional_aggregates", window)).Outcome);

        Assert.Equal(new Dictionary<string, long> { ["reason=load-based"] = 1 }, Recorded("tariffs.updates"));
    }

    [Fact]
    public async Task Should_count_notifications_by_channel_and_status()
    {
        using var smtp = new SmtpSink();
        await using (var command = Db.CreateCommand("""
                         INSERT INTO users (id, email, password_hash, role, operator_regions)
                         VALUES ('7f7f7f7f-0000-0000-0000-000000000001', 'op@grid.test', 'x', 'OPERATOR', ARRAY[$1])
                         """))
        {
            command.Parameters.AddWithValue(_region);
            await command.ExecuteNonQueryAsync();
        }

        await using (var command = Db.CreateCommand("""
                         INSERT INTO notification_preferences (user_id, channels, webhook_url, webhook_secret)
                         VALUES ('7f7f7f7f-0000-0000-0000-000000000001', '{email,webhook}', 'http://127.0.0.1:9/closed', 'whsec_metrics')
                         """))
            await command.ExecuteNonQueryAsync();

        var settings = new NotificationSettings
        {
            Smtp = new SmtpSettings { Port = smtp.Port }, MaxAttempts = 1, Webhook = new WebhookSettings { Timeout = TimeSpan.FromSeconds(2) },
        };
        var manager = Sys.ActorOf(NotificationManager.Props(settings, Db,
            [new EmailChannel(settings.Smtp), new WebhookChannel(settings.Webhook)]));
        var alert = new AlertEventMessage(Random.Shared.NextInt64(1, long.MaxValue), "created", "system", T0, new AlertView
        {
            AlertId = Guid.NewGuid(), Type = AlertType.Threshold, Severity = "high", Region = _region, Message = "Overloaded",
            Metadata = System.Text.Json.JsonDocument.Parse("{}").RootElement, Status = AlertStatus.Active,
        });
        Assert.Equal("sent:1,failed:1", (await Deliver(manager, "alerts", alert)).Outcome);

        Assert.Equal(new Dictionary<string, long> { ["channel=email,status=sent"] = 1, ["channel=webhook,status=failed"] = 1 },
            Recorded("notifications"));
    }

    [Fact]
    public async Task Should_count_notifications_over_the_recipients_limit_as_rate_limited()
    {
        using var smtp = new SmtpSink();
        await using (var command = Db.CreateCommand("""
                         INSERT INTO users (id, email, password_hash, role, operator_regions)
                         VALUES ('7f7f7f7f-0000-0000-0000-000000000002', 'op@grid.test', 'x', 'OPERATOR', ARRAY[$1])
                         """))
        {
            command.Parameters.AddWithValue(_region);
            await command.ExecuteNonQueryAsync();
        }

        var settings = new NotificationSettings { Smtp = new SmtpSettings { Port = smtp.Port }, MaxPerRecipientPerHour = 1 };
        var manager = Sys.ActorOf(NotificationManager.Props(settings, Db, [new EmailChannel(settings.Smtp)],
            rateLimit: new RecipientRateLimit(Fixture.Redis, Keys, settings.MaxPerRecipientPerHour)));
        for (var i = 0; i < 3; i++)
        {
            var alert = new AlertEventMessage(Random.Shared.NextInt64(1, long.MaxValue), "created", "system", DateTimeOffset.UtcNow, new AlertView
            {
                AlertId = Guid.NewGuid(), Type = AlertType.Threshold, Severity = "high", Region = _region, Message = "Overloaded",
                Metadata = System.Text.Json.JsonDocument.Parse("{}").RootElement, Status = AlertStatus.Active,
            });
            await Deliver(manager, "alerts", alert);
        }

        Assert.Equal(new Dictionary<string, long> { ["channel=email,status=sent"] = 1, ["channel=email,status=rate_limited"] = 2 },
            Recorded("notifications"));
        Assert.Single(smtp.Messages);
    }
}
