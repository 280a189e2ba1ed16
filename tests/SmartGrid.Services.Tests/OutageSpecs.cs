using Akka.Actor;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Storage;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>
/// OUTAGE alerts from the rows the pipeline stores (aggregates_1m, regional_aggregates_1m),
/// written here with the pipeline's own stores.
/// </summary>
public sealed class OutageSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);
    private readonly string _alerts = $"alerts-{Guid.NewGuid():N}";
    private readonly ManualTime _clock = new(T0);

    /// <summary>By default checks only when the test asks: the timer must not race the assertions.</summary>
    private IActorRef StartManager(TimeSpan? checkInterval = null)
    {
        Fixture.Broker.CreateTopic(_alerts, 3);
        var settings = new AlertSettings
        {
            AlertsTopic = _alerts, OutageSilence = TimeSpan.FromMinutes(15), OutageCheckInterval = checkInterval ?? TimeSpan.FromHours(1),
        };
        return Sys.ActorOf(AlertManager.Props(settings, Db, Fixture.Redis, Keys, Fixture.Producer, _clock));
    }

    /// <summary>What the pipeline stores for these minutes: a window per meter, a regional window per region with a meter.</summary>
    private async Task Report(IEnumerable<int> minutes, params (string Meter, string Region)[] meters)
    {
        var partitions = new PartitionMaintenance(Db);
        var windows = new List<WindowAggregate>();
        var regional = new List<RegionalAggregate>();
        foreach (var minute in minutes)
        {
            var start = T0.AddMinutes(minute);
            windows.AddRange(meters.Select(m => new WindowAggregate
            {
                MeterId = m.Meter, Region = m.Region, Size = WindowSize.OneMinute, WindowStart = start, ReadingCount = 6,
                EnergyKwhSum = 0.2, PowerKwSum = 12, PowerKwMin = 1.9, PowerKwMax = 2.1, VoltageSum = 1380, CurrentSum = 52,
            }));
            regional.AddRange(meters.GroupBy(m => m.Region).Select(g => new RegionalAggregate
            {
                Region = g.Key, Size = WindowSize.OneMinute, WindowStart = start, MeterCount = g.Count(), TotalPowerKw = 2 * g.Count(),
                EnergyKwhSum = 0.2 * g.Count(), ReadingCount = 6 * g.Count(), CapacityKw = 2500, LoadPercent = 0.08 * g.Count(),
            }));
        }

        await new AggregateStore(Db, partitions).UpsertAsync(windows, null);
        await new RegionalAggregateStore(Db, partitions).UpsertAsync(regional, null);
    }

    private async Task Register(params (string Meter, string Region)[] meters)
    {
        foreach (var (meter, region) in meters)
        {
            await using var command = Db.CreateCommand("INSERT INTO meters (meter_id, region) VALUES ($1, $2)");
            command.Parameters.AddWithValue(meter);
            command.Parameters.AddWithValue(region);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static Task<OutagesChecked> Check(IActorRef manager) => manager.Ask<OutagesChecked>(CheckOutages.Instance, TimeSpan.FromSeconds(20));

    /// <summary>OUTAGE alerts as "region/meter/severity/status/resolved_by" ("-" for none).</summary>
    private async Task<List<string>> Outages()
    {
        var rows = new List<string>();
        await using var command = Db.CreateCommand(
            "SELECT region, meter_id, severity, status, resolved_by FROM alerts WHERE type = 'OUTAGE' ORDER BY region, meter_id NULLS FIRST, created_at");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(string.Join('/', Enumerable.Range(0, 5).Select(i => reader.IsDBNull(i) ? "-" : reader.GetString(i))));
        return rows;
    }

    [Fact]
    public async Task Should_raise_one_outage_per_silent_meter_and_region_and_resolve_it_when_it_reports_again()
    {
        (string, string) m1 = ("MTR-00000001", "Nashik"), m2 = ("MTR-00000002", "Nashik"), m3 = ("MTR-00000003", "Nashik"),
            p1 = ("MTR-00000101", "Pune-West");
        await Register(m1, m2, m3, p1);
        await Report(Enumerable.Range(0, 10), m1, m2, m3, p1);

        // M3 stops at minute 9; Pune-West (its only meter) too. Nashik goes on for 14 windows: not yet.
        await Report(Enumerable.Range(10, 14), m1, m2);
        _clock.Now = T0.AddMinutes(25);
        var manager = StartManager();
        Assert.Equal(new OutagesChecked(0, 0), await Check(manager));

        // The 15th window without them.
        await Report([24], m1, m2);
        Assert.Equal(new OutagesChecked(2, 0), await Check(manager));
        Assert.Equal(["Nashik/MTR-00000003/high/active/-", "Pune-West/-/critical/active/-"], await Outages());
        Assert.Equal(15, await ScalarAsync<int>("SELECT (metadata ->> 'silent_windows')::int FROM alerts WHERE meter_id = 'MTR-00000003'"));

        // Still silent: the same episode is not raised again, nor counted again.
        await Report([25, 26], m1, m2);
        Assert.Equal(new OutagesChecked(0, 0), await Check(manager));
        Assert.Equal(2L, await ScalarAsync<long>("SELECT sum(occurrence_count) FROM alerts"));

        // An operator closes the meter's alert while it is still silent: not reopened.
        var m3Alert = await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE meter_id = 'MTR-00000003'");
        await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(m3Alert, "operator-1"), TimeSpan.FromSeconds(10));
        await Report([27], m1, m2);
        Assert.Equal(new OutagesChecked(0, 0), await Check(manager));

        // Pune-West reports again: its outage resolves itself.
        await Report([28], m1, m2, p1);
        Assert.Equal(new OutagesChecked(0, 1), await Check(manager));
        Assert.Equal(["Nashik/MTR-00000003/high/resolved/operator-1", "Pune-West/-/critical/resolved/system"],
            await Outages());

        var events = ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).OrderBy(e => e.EventId)
            .Select(e => $"{e.Event}/{e.Alert.Region}/{e.Alert.MeterId ?? "-"}/{e.Actor}").ToList();
        // Regions are looked at before meters.
        Assert.Equal(["created/Pune-West/-/system", "created/Nashik/MTR-00000003/system",
            "resolved/Nashik/MTR-00000003/operator-1", "resolved/Pune-West/-/system"], events);
        Assert.Equal("0", (await Redis.StringGetAsync(Keys.AlertCount("Pune-West"))).ToString());
    }

    [Fact]
    public async Task Should_not_raise_outages_for_everyone_after_a_handover_or_a_gap_in_the_pipeline()
    {
        (string, string) m1 = ("MTR-00000001", "Nashik"), m2 = ("MTR-00000002", "Nashik"), m3 = ("MTR-00000003", "Nashik"),
            p1 = ("MTR-00000101", "Pune-West");
        await Register(m1, m2, m3, p1);
        await Report(Enumerable.Range(0, 10), m1, m2, m3, p1);
        _clock.Now = T0.AddMinutes(11);
        var first = StartManager();
        Assert.Equal(new OutagesChecked(0, 0), await Check(first));
        await first.GracefulStop(TimeSpan.FromSeconds(5));

        // The singleton's node is gone for an hour, and the pipeline with it: a new owner starts
        // with every meter and region an hour behind the wall clock.
        _clock.Now = T0.AddMinutes(70);
        var second = StartManager();
        Assert.Equal(new OutagesChecked(0, 0), await Check(second));

        // The pipeline catches up meter by meter: M1 and Pune-West first, the others some minutes later.
        await Report(Enumerable.Range(70, 5), m1, p1);
        _clock.Now = T0.AddMinutes(76);
        Assert.Equal(new OutagesChecked(0, 0), await Check(second));
        await Report(Enumerable.Range(75, 3), m1, m2, m3, p1);
        Assert.Equal(new OutagesChecked(0, 0), await Check(second));

        // Later M3 really goes silent: only M3 is in outage.
        await Report(Enumerable.Range(78, 15), m1, m2, p1);
        _clock.Now = T0.AddMinutes(94);
        Assert.Equal(new OutagesChecked(1, 0), await Check(second));
        Assert.Equal(["Nashik/MTR-00000003/high/active/-"], await Outages());

        // M3 reports again: resolved by the system.
        await Report([93], m1, m2, m3, p1);
        Assert.Equal(new OutagesChecked(0, 1), await Check(second));
        Assert.Equal(["Nashik/MTR-00000003/high/resolved/system"], await Outages());
    }

    [Fact]
    public async Task Should_check_for_outages_on_its_own_every_interval()
    {
        (string, string) m1 = ("MTR-00000001", "Nashik"), m2 = ("MTR-00000002", "Nashik");
        await Register(m1, m2);
        await Report(Enumerable.Range(0, 5), m1, m2);
        _clock.Now = T0.AddMinutes(6);
        StartManager(TimeSpan.FromMilliseconds(200));
        await Report(Enumerable.Range(5, 15), m1);

        await Eventually(async () => (await Outages()).Count == 1, 20, "the timer's outage check");
        Assert.Equal(["Nashik/MTR-00000002/high/active/-"], await Outages());
    }

    [Fact]
    public async Task Should_not_raise_an_outage_for_a_meter_without_an_established_cadence()
    {
        (string, string) m1 = ("MTR-00000001", "Nashik"), once = ("MTR-00000002", "Nashik"), few = ("MTR-00000003", "Nashik"),
            regular = ("MTR-00000004", "Nashik");
        await Register(m1, once, few, regular);
        await Report([0], m1, once, few, regular);
        await Report(Enumerable.Range(1, 3), m1, few, regular);
        await Report([4], m1, regular);
        await Report(Enumerable.Range(5, 15), m1);
        _clock.Now = T0.AddMinutes(21);
        var manager = StartManager();

        // Seen once, seen four times: no rhythm to miss. Five windows: an outage.
        Assert.Equal(new OutagesChecked(1, 0), await Check(manager));
        Assert.Equal(["Nashik/MTR-00000004/high/active/-"], await Outages());
    }

    [Fact]
    public async Task Should_end_an_anomaly_after_three_windows_within_the_band_since_its_last_anomalous_one()
    {
        (string, string) meter = ("MTR-00000001", "Nashik");
        await Register(meter);
        await Report(Enumerable.Range(0, 3), meter);
        _clock.Now = T0.AddMinutes(3);
        var manager = StartManager();
        await Deliver(manager, "anomalies", Spike(meter.Item1, 2));
        await Report([3, 4], meter);
        await Consumed(manager, 3, 4, 5, 6);
        Assert.Equal(new OutagesChecked(0, 0), await Check(manager));

        // Window 4 was anomalous too: the count starts again after it. Windows 5-7 are stored, but the manager applied
        // the region's windows only up to minute 8: the anomaly of window 7 could still be on its way, so 7 does not count.
        await Deliver(manager, "anomalies", Spike(meter.Item1, 4));
        await Report([5, 6, 7], meter);
        await Consumed(manager, 7, 8);
        Assert.Equal(new OutagesChecked(0, 0), await Check(manager));
        Assert.Equal("active", await ScalarAsync<string>("SELECT status FROM alerts WHERE type = 'ANOMALY'"));

        await Consumed(manager, 9);
        Assert.Equal(new OutagesChecked(0, 1), await Check(manager));
        Assert.Equal(("resolved", "system"), (await ScalarAsync<string>("SELECT status FROM alerts WHERE type = 'ANOMALY'"),
            await ScalarAsync<string>("SELECT resolved_by FROM alerts WHERE type = 'ANOMALY'")));
        var events = ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).OrderBy(e => e.EventId)
            .Select(e => $"{e.Event}/{e.Alert.Type.ToWireName()}/{e.Actor}").ToList();
        Assert.Equal(["created/ANOMALY/system", "resolved/ANOMALY/system"], events);
    }

    /// <summary>The AlertManager applies Nashik's 1-minute loads of these minutes (a quiet load: no overload).</summary>
    private static async Task Consumed(IActorRef manager, params int[] minutes)
    {
        foreach (var minute in minutes)
            await Deliver(manager, "regional_aggregates", new RegionalAggregateMessage
            {
                Region = "Nashik", WindowSize = "1m", WindowStart = T0.AddMinutes(minute), WindowEnd = T0.AddMinutes(minute + 1),
                MeterCount = 1, TotalPowerKw = 2, CapacityKw = 2500, LoadPercentage = 0.08, Revision = 1,
            });
    }

    [Fact]
    public async Task Should_raise_one_incident_when_many_meters_of_a_region_go_silent_together_and_attach_their_outages_to_it()
    {
        var nashik = Enumerable.Range(1, 20).Select(i => ($"MTR-{i:D8}", "Nashik")).ToArray();
        var pune = ("MTR-00000101", "Pune-West");
        await Register([.. nashik, pune]);
        await Report(Enumerable.Range(0, 10), [.. nashik, pune]);
        // Five of twenty (more than 10 %) stop at minute 9, one more at minute 11; one meter of Pune-West is alone.
        await Report(Enumerable.Range(10, 2), [.. nashik[5..], pune]);
        await Report(Enumerable.Range(12, 14), [.. nashik[6..], pune]);
        _clock.Now = T0.AddMinutes(28);
        var manager = StartManager();

        Assert.Equal(new OutagesChecked(6, 0), await Check(manager));
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE type = 'INCIDENT' AND region = 'Nashik' AND status = 'active'"));
        var incident = await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE type = 'INCIDENT'");
        Assert.Equal(5, await ScalarAsync<int>("SELECT (metadata ->> 'affected_count')::int FROM alerts WHERE type = 'INCIDENT'"));
        Assert.Equal(20, await ScalarAsync<int>("SELECT (metadata ->> 'registered_meters')::int FROM alerts WHERE type = 'INCIDENT'"));
        // The sixth went silent two minutes later: not yet (its silence is 14 windows), and then it joins the incident.
        Assert.Equal(5, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE type = 'OUTAGE' AND incident_id = $1", incident));

        await Report([26, 27], [.. nashik[6..], pune]);
        Assert.Equal(new OutagesChecked(1, 0), await Check(manager));
        Assert.Equal(6, await ScalarAsync<int>("SELECT (metadata ->> 'affected_count')::int FROM alerts WHERE type = 'INCIDENT'"));
        Assert.Equal(6, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE type = 'OUTAGE' AND incident_id = $1", incident));

        // On the alerts topic the incident is a regional alert, the outages carry it (the NotificationManager skips them).
        var events = ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).OrderBy(e => e.EventId).ToList();
        Assert.Equal(("created", (string?)null), (events[0].Event, events[0].Alert.MeterId));
        Assert.Equal(AlertType.Incident, events[0].Alert.Type);
        Assert.All(events.Skip(1), e => Assert.Equal((AlertType.Outage, (Guid?)incident), (e.Alert.Type, e.Alert.IncidentId)));

        // Everyone reports again: the outages resolve, and the incident with them.
        await Report([28], [.. nashik, pune]);
        Assert.Equal(new OutagesChecked(0, 7), await Check(manager));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE status <> 'resolved'"));
    }

    [Fact]
    public async Task Should_attach_a_drop_during_an_open_incident_to_it()
    {
        var nashik = Enumerable.Range(1, 10).Select(i => ($"MTR-{i:D8}", "Nashik")).ToArray();
        await Register(nashik);
        await Report(Enumerable.Range(0, 10), nashik);
        await Report(Enumerable.Range(10, 15), nashik[3..]);
        _clock.Now = T0.AddMinutes(26);
        var manager = StartManager();
        Assert.Equal(new OutagesChecked(4, 0), await Check(manager));

        await Deliver(manager, "anomalies", Spike(nashik[5].Item1, 24) with { Kind = AnomalyKind.Drop, ActualKw = 0.1, DeviationPercent = -95 });

        var incident = await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE type = 'INCIDENT'");
        Assert.Equal(incident, await ScalarAsync<Guid>("SELECT incident_id FROM alerts WHERE type = 'ANOMALY'"));
    }

    private static Anomaly Spike(string meter, int minute) => new()
    {
        MeterId = meter, Region = "Nashik", Kind = AnomalyKind.Spike, Timestamp = T0.AddMinutes(minute), BaselineKw = 1.0, ActualKw = 3.0,
        DeviationPercent = 200, Severity = Severity.Medium,
    };
}
