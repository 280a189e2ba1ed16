using Akka.Actor;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Storage;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>
/// POWER_QUALITY (sustained EN 50160 non-compliance) and SWELL alerts from the rows the pipeline stores (voltage_10m,
/// rebuilt from aggregates_1m, and voltage_events), written here with the pipeline's own store.
/// </summary>
public sealed class PowerQualityAlertSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 0, 0, 0, TimeSpan.Zero);
    private readonly string _alerts = $"alerts-{Guid.NewGuid():N}";
    private readonly ManualTime _clock = new(T0.AddHours(26));

    /// <summary>Checks only when the test asks; a short period so the test writes few windows, judged from 144 of them.</summary>
    private IActorRef StartManager()
    {
        Fixture.Broker.CreateTopic(_alerts, 3);
        var settings = new AlertSettings
        {
            AlertsTopic = _alerts, PowerQualityPeriod = TimeSpan.FromDays(2), PowerQualityCheckInterval = TimeSpan.FromHours(1),
            OutageCheckInterval = TimeSpan.FromHours(1), SwellQuiet = TimeSpan.FromHours(1),
        };
        return Sys.ActorOf(AlertManager.Props(settings, Db, Fixture.Redis, Keys, Fixture.Producer, _clock));
    }

    /// <summary>One minute per 10-minute window, from T0, of a meter in Nashik (230 V): window i holds the mean <paramref name="volts"/>(i).</summary>
    private async Task Windows(string meter, int count, Func<int, double> volts, IReadOnlyList<VoltageEvent>? events = null)
    {
        var rows = Enumerable.Range(0, count).Select(i => new WindowAggregate
        {
            MeterId = meter, Region = "Nashik", Size = WindowSize.OneMinute, WindowStart = T0.AddMinutes(10 * i), ReadingCount = 6,
            EnergyKwhSum = 0.2, PowerKwSum = 12, PowerKwMin = 1.9, PowerKwMax = 2.1, VoltageSum = 6 * volts(i), VoltageMin = volts(i),
            VoltageMax = volts(i), CurrentSum = 52,
        }).ToList();
        await new AggregateStore(Db, new PartitionMaintenance(Db)).UpsertAsync(rows, events ?? [], [], null);
    }

    private static async Task<PowerQualityChecked> Check(IActorRef manager) =>
        await manager.Ask<PowerQualityChecked>(CheckPowerQuality.Instance, TimeSpan.FromSeconds(20));

    [Fact]
    public async Task Should_raise_a_non_compliant_meters_alert_once_and_resolve_it_when_its_means_comply_again()
    {
        // 150 windows, 10 of them at 200 V (−13 %: outside ±10 %, inside −15 %): 140 / 150 = 93.3 % within, under 95 %.
        await Windows("MTR-PQ-BAD", 150, i => i < 10 ? 200 : 231);
        // 150 windows, 7 at 200 V: 143 / 150 = 95.3 %, and every mean within −15 %/+10 %: compliant.
        await Windows("MTR-PQ-OK", 150, i => i < 7 ? 200 : 229);
        // Worse than both, but only 100 windows: not judged yet.
        await Windows("MTR-PQ-NEW", 100, _ => 190);
        var manager = StartManager();

        Assert.Equal(new PowerQualityChecked(1, 0), await Check(manager));
        var alert = Assert.Single(Events()).Alert;
        Assert.Equal((AlertType.PowerQuality, "Nashik", "MTR-PQ-BAD", "medium"), (alert.Type, alert.Region, alert.MeterId, alert.Severity));
        Assert.Equal((150, 140.0 / 150), (alert.Metadata.GetProperty("windows").GetInt32(), alert.Metadata.GetProperty("within_band_share").GetDouble()));
        Assert.Contains("93.3% of 150 10-minute means within ±10% of 230 V", alert.Message);
        // Checked again, still non-compliant: the one alert stays, nothing new.
        Assert.Equal(new PowerQualityChecked(0, 0), await Check(manager));

        // Its bad hours restated (late readings replaced them): compliant, and the alert resolves itself.
        await Windows("MTR-PQ-BAD", 150, _ => 231);
        Assert.Equal(new PowerQualityChecked(0, 1), await Check(manager));
        Assert.Equal(["created", "resolved"], Events().Select(e => e.Event));
        Assert.Equal("system", Events()[^1].Alert.ResolvedBy);
    }

    [Fact]
    public async Task Should_raise_one_swell_alert_per_meter_counting_each_swell_once_and_resolve_it_after_a_quiet_hour()
    {
        var now = _clock.Now;
        VoltageEvent Swell(string meter, int minutesAgo, double volts) =>
            new(meter, "Nashik", VoltageEventKind.Swell, now.AddMinutes(-minutesAgo), now.AddMinutes(-minutesAgo).AddSeconds(30), volts, 230);
        // Two swells of one meter (117 % and 112 %), one of another (112 %), and an old one nobody is told about any more.
        await Windows("MTR-SW-1", 1, _ => 231, [Swell("MTR-SW-1", 40, 269), Swell("MTR-SW-1", 10, 258), Swell("MTR-SW-2", 20, 258), Swell("MTR-SW-3", 300, 270)]);
        var manager = StartManager();

        Assert.Equal(new PowerQualityChecked(2, 0), await Check(manager));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE meter_id = 'MTR-SW-3'"));
        Assert.Equal((2, "medium"), (await ScalarAsync<int>("SELECT occurrence_count FROM alerts WHERE meter_id = 'MTR-SW-1'"),
            await ScalarAsync<string>("SELECT severity FROM alerts WHERE meter_id = 'MTR-SW-1'")));
        Assert.Equal("medium", await ScalarAsync<string>("SELECT severity FROM alerts WHERE meter_id = 'MTR-SW-2'"));
        var first = Events().Select(e => e.Alert).Single(a => a.MeterId == "MTR-SW-1");
        Assert.Equal((AlertType.Swell, "high"), (first.Type, first.Severity));
        // The same swells seen again count nothing.
        Assert.Equal(new PowerQualityChecked(0, 0), await Check(manager));
        Assert.Equal(2, await ScalarAsync<int>("SELECT occurrence_count FROM alerts WHERE meter_id = 'MTR-SW-1'"));

        // An hour later, meter 2 has been quiet since its swell and resolves; meter 1's newest swell was 10 minutes later.
        _clock.Now = now.AddMinutes(45);
        Assert.Equal(new PowerQualityChecked(0, 1), await Check(manager));
        Assert.Equal(["MTR-SW-2"], Events().Where(e => e.Event == "resolved").Select(e => e.Alert.MeterId));
    }

    private List<AlertEventMessage> Events() =>
        ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).OrderBy(e => e.EventId).ToList();
}
