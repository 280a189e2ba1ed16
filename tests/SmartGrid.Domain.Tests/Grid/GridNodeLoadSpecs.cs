using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Regional;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Grid;

/// <summary>
/// Each transformer's and feeder's load, as a region publishes it with its own windows: the meters placed under the node at
/// the window's start, summed by their average power, against the node's rating. Numbers are worked by hand.
/// </summary>
public class GridNodeLoadSpecs
{
    private const string Region = "Pune-West";
    private static readonly RegionPolicy Policy = new();
    private static readonly DateTimeOffset Wall = new(2026, 12, 6, 20, 0, 0, TimeSpan.Zero);

    // FD-1 (rated 100 kW) feeds TR-1 (20 kW: meters A and B) and TR-2 (40 kW: C, and D from 12:01, moved from TR-1).
    // TR-9 hangs in another region and must never show here.
    private static readonly GridLayout Layout = new(
        [
            new GridNodeRating("FD-1", GridNodeKind.Feeder, Region, Region, 100),
            new GridNodeRating("TR-1", GridNodeKind.Transformer, Region, "FD-1", 20),
            new GridNodeRating("TR-2", GridNodeKind.Transformer, Region, "FD-1", 40),
            new GridNodeRating("TR-9", GridNodeKind.Transformer, "Nashik", "FD-9", 40),
        ],
        [
            new PlacementSpan("MTR-A", "TR-1", Noon.AddDays(-1), null),
            new PlacementSpan("MTR-B", "TR-1", Noon.AddDays(-1), null),
            new PlacementSpan("MTR-C", "TR-2", Noon.AddDays(-1), null),
            new PlacementSpan("MTR-D", "TR-1", Noon.AddDays(-1), Noon.AddMinutes(1)),
            new PlacementSpan("MTR-D", "TR-2", Noon.AddMinutes(1), null),
            new PlacementSpan("MTR-Z", "TR-9", Noon.AddDays(-1), null),
        ],
        Wall);

    private static EmittedWindow OneMinute(string meter, DateTimeOffset start, params double[] powersKw)
    {
        var window = WindowAggregate.Empty(meter, Region, WindowSize.OneMinute, start);
        for (var i = 0; i < powersKw.Length; i++)
            window = window.Add(Reading(start.AddSeconds(10 * i), powersKw[i], meterId: meter, region: Region));
        return new EmittedWindow(window, 1);
    }

    private static List<(string Node, int Meters, int Expected, double Kw, double Percent)> Rows(IEnumerable<GridNodeAggregate> nodes) =>
        nodes.Select(n => (n.NodeId, n.MeterCount, n.ExpectedMeters, Math.Round(n.TotalPowerKw, 9), Math.Round(n.LoadPercent, 9))).ToList();

    [Fact]
    public void Should_sum_each_nodes_meters_by_where_they_hung_when_the_window_started()
    {
        // 12:00: A averages (10 + 20) / 2 = 15 kW, B 3, C 8, D 2 (still on TR-1). TR-1: 15 + 3 + 2 = 20 kW of 20 (100 %), 3 of 3;
        // TR-2: 8 of 40 (20 %), 1 of 1; FD-1: 28 kW of 100.
        var noon = Layout.LoadOf(Region, WindowSize.OneMinute, Noon,
            [OneMinute("MTR-A", Noon, 10, 20).Aggregate, OneMinute("MTR-B", Noon, 3).Aggregate, OneMinute("MTR-C", Noon, 8).Aggregate, OneMinute("MTR-D", Noon, 2).Aggregate]);
        Assert.Equal([("TR-1", 3, 3, 20.0, 100.0), ("TR-2", 1, 1, 8.0, 20.0), ("FD-1", 4, 4, 28.0, 28.0)], Rows(noon));

        // 12:01: D has moved to TR-2, and B is silent. TR-1: A 15 kW of 20 (75 %), 1 of 2 expected; TR-2: 8 + 2 = 10 (25 %), 2 of 2.
        var next = Noon.AddMinutes(1);
        var later = Layout.LoadOf(Region, WindowSize.OneMinute, next,
            [OneMinute("MTR-A", next, 15).Aggregate, OneMinute("MTR-C", next, 8).Aggregate, OneMinute("MTR-D", next, 2).Aggregate]);
        Assert.Equal([("TR-1", 1, 2, 15.0, 75.0), ("TR-2", 2, 2, 10.0, 25.0), ("FD-1", 3, 4, 25.0, 25.0)], Rows(later));
        Assert.All(later, n => Assert.Equal((Region, WindowSize.OneMinute, next, next.AddMinutes(1)), (n.Region, n.Size, n.WindowStart, n.WindowEnd)));
    }

    [Fact]
    public void Should_show_a_node_whose_meters_all_fell_silent_and_leave_out_meters_placed_nowhere()
    {
        // Only an unplaced meter reported: both transformers are at 0 kW of their expected meters.
        var quiet = Layout.LoadOf(Region, WindowSize.OneMinute, Noon, [OneMinute("MTR-X", Noon, 50).Aggregate]);

        Assert.Equal([("TR-1", 0, 3, 0.0, 0.0), ("TR-2", 0, 1, 0.0, 0.0), ("FD-1", 0, 4, 0.0, 0.0)], Rows(quiet));
        Assert.Empty(Layout.LoadOf("Mumbai-Central", WindowSize.OneMinute, Noon, [OneMinute("MTR-A", Noon, 50).Aggregate]));
        Assert.Empty(GridLayout.Empty.LoadOf(Region, WindowSize.OneMinute, Noon, [OneMinute("MTR-A", Noon, 50).Aggregate]));
    }

    [Fact]
    public void Should_publish_node_windows_with_the_regional_window_and_again_with_its_revision_when_a_late_meter_amends_it()
    {
        var state = new RegionState(Region);
        state.Apply(state.Decide([OneMinute("MTR-A", Noon, 10), OneMinute("MTR-C", Noon, 8)], Wall)!, Policy);
        state.Apply(state.Decide([OneMinute("MTR-A", Noon.AddMinutes(1), 10)], Wall)!, Policy);

        var first = state.DecideEmission(idle: false, capacityKw: 200, Layout)!;
        state.Apply(first, Policy);
        var window = Assert.Single(first.Windows);
        Assert.Equal(1, window.Revision);
        Assert.Equal([("TR-1", 1, 3, 10.0, 50.0), ("TR-2", 1, 1, 8.0, 20.0), ("FD-1", 2, 4, 18.0, 18.0)], Rows(window.Nodes!));

        // B's window for 12:00 arrives late: the region's window and its nodes go out again as revision 2.
        state.Apply(state.Decide([OneMinute("MTR-B", Noon, 4)], Wall)!, Policy);
        var amended = Assert.Single(state.DecideEmission(idle: false, capacityKw: 200, Layout)!.Windows);
        Assert.Equal((2, ("TR-1", 2, 3, 14.0, 70.0)), (amended.Revision, Rows(amended.Nodes!)[0]));
        // A region without a tree publishes no node windows.
        var bare = new RegionState(Region);
        foreach (var w in new[] { OneMinute("MTR-A", Noon, 10), OneMinute("MTR-A", Noon.AddMinutes(1), 10) })
            bare.Apply(bare.Decide([w], Wall)!, Policy);
        Assert.Null(Assert.Single(bare.DecideEmission(idle: false, capacityKw: 200, GridLayout.Empty)!.Windows).Nodes);
    }
}
