using Akka.Actor;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>
/// Overload alerts per transformer and feeder (issue 17), from grid_node_aggregates: the regions' rule (over 85 % in 3
/// windows within 30 minutes) and hysteresis (under 80 % for 3 windows clears), each node with its own alert, in its
/// region, beside the region's own.
/// </summary>
public sealed class GridNodeAlertSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);
    private readonly string _alerts = $"alerts-{Guid.NewGuid():N}";

    private IActorRef Start(AlertSettings? settings = null) =>
        StartAlertManager((settings ?? new AlertSettings()) with { AlertsTopic = _alerts });

    private static GridNodeAggregateMessage Node(string node, int minute, double load, int revision = 1, string kind = "transformer") => new()
    {
        NodeId = node, Kind = kind, Region = "Nashik", WindowSize = "1m", WindowStart = T0.AddMinutes(minute), WindowEnd = T0.AddMinutes(minute + 1),
        MeterCount = 40, ExpectedMeters = 40, TotalPowerKw = load * 2, RatedKw = 200, LoadPercent = load, Revision = revision,
    };

    private static RegionalAggregateMessage Region(int minute, double load) => new()
    {
        Region = "Nashik", WindowSize = "1m", WindowStart = T0.AddMinutes(minute), WindowEnd = T0.AddMinutes(minute + 1),
        MeterCount = 600, TotalPowerKw = load * 30, CapacityKw = 3000, LoadPercentage = load, Revision = 1,
    };

    private static Task<RecordHandled> Deliver(IActorRef manager, GridNodeAggregateMessage load) => Deliver(manager, Topics.GridNodeAggregates, load);

    [Fact]
    public async Task Should_raise_a_transformers_own_overload_alert_beside_its_regions_and_clear_it_by_the_same_hysteresis()
    {
        var manager = Start();
        // The region is overloaded too: its alert and the transformer's are two alerts, one per (region, node).
        foreach (var minute in new[] { 0, 1, 2 })
            await Deliver(manager, Topics.RegionalAggregates, Region(minute, 95));
        Assert.Equal("recorded", (await Deliver(manager, Node("TR-NSK-1", 0, 90))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, Node("TR-NSK-1", 5, 60))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, Node("TR-NSK-2", 6, 99))).Outcome);
        Assert.Equal("recorded", (await Deliver(manager, Node("TR-NSK-1", 10, 92))).Outcome);
        Assert.Equal("alert-created", (await Deliver(manager, Node("TR-NSK-1", 11, 97))).Outcome);
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, Node("TR-NSK-1", 11, 97)));

        Assert.Equal(2, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE type = 'THRESHOLD' AND status = 'active'"));
        var alert = Events().Select(e => e.Alert).Single(a => a.NodeId == "TR-NSK-1");
        Assert.Equal((AlertType.Threshold, "Nashik", null, "high"), (alert.Type, alert.Region, alert.MeterId, alert.Severity));
        Assert.StartsWith("Transformer TR-NSK-1 in Nashik overloaded: 97.0% of its rating", alert.Message);
        Assert.Equal((200.0, 40), (alert.Metadata.GetProperty("rated_kw").GetDouble(), alert.Metadata.GetProperty("expected_meters").GetInt32()));

        // Hovering between 80 and 85 keeps the one alert; three windows under 80 % clear the transformer's alone.
        foreach (var (minute, load) in new[] { (12, 84.0), (13, 79.0), (14, 78.0) })
            Assert.Equal("recorded", (await Deliver(manager, Node("TR-NSK-1", minute, load))).Outcome);
        Assert.Equal("alert-resolved", (await Deliver(manager, Node("TR-NSK-1", 15, 70))).Outcome);
        Assert.Equal(["system"], await ListAsync("SELECT resolved_by FROM alerts WHERE node_id = 'TR-NSK-1'"));
        Assert.Equal(["active"], await ListAsync("SELECT status FROM alerts WHERE node_id IS NULL"));
        // Another transformer of the region only ever had one overload window: nothing.
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE node_id = 'TR-NSK-2'"));
    }

    [Fact]
    public async Task Should_hold_an_operators_resolve_while_a_feeder_stays_overloaded_and_ignore_its_15_minute_windows()
    {
        var manager = Start();
        Assert.Equal(RecordHandled.Ignored, await Deliver(manager, Topics.GridNodeAggregates,
            Node("FD-NSK-1", 0, 99, kind: "feeder") with { WindowSize = "15m", WindowEnd = T0.AddMinutes(15) }));
        foreach (var minute in new[] { 0, 1, 2 })
            await Deliver(manager, Node("FD-NSK-1", minute, 88, kind: "feeder"));
        var id = await ScalarAsync<Guid>("SELECT alert_id FROM alerts WHERE node_id = 'FD-NSK-1'");
        Assert.Equal("high", await ScalarAsync<string>("SELECT severity FROM alerts WHERE alert_id = $1", id));

        var held = await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10));
        Assert.Equal(AlertStatus.Acknowledged, held.Alert.Status);
        Assert.Contains("node FD-NSK-1 is still overloaded", await ScalarAsync<string>("SELECT note FROM alert_acknowledgments WHERE action = 'noted'"));

        // Back under 80 %, the operator's resolve counts, and the feeder's windows go with it.
        await Deliver(manager, Node("FD-NSK-1", 3, 50, kind: "feeder"));
        Assert.Equal(AlertStatus.Resolved, (await manager.Ask<AlertCommandSucceeded>(new ResolveAlert(id, "operator-1"), TimeSpan.FromSeconds(10))).Alert.Status);
        Assert.Equal("recorded", (await Deliver(manager, Node("FD-NSK-1", 4, 88, kind: "feeder"))).Outcome);
    }

    private List<AlertEventMessage> Events() =>
        ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).OrderBy(e => e.EventId).ToList();

    private async Task<List<string>> ListAsync(string sql)
    {
        var values = new List<string>();
        await using var command = Db.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }
}
