using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Simulation;

namespace SmartGrid.Domain.Tests.Simulation;

public sealed class FleetTopologySpecs
{
    [Theory]
    [InlineData(1, 5_000)]
    [InlineData(42, 5_000)]
    [InlineData(7, 20_000)]
    public void Should_hang_every_meter_once_on_transformers_of_20_to_60_meters_and_feeders_of_10_to_30_transformers(long seed, int meters)
    {
        var fleet = MeterFleet.Create(new SimulationOptions { Seed = seed, MeterCount = meters });

        var tree = FleetTopology.Of(fleet);

        Assert.Equal(fleet.Meters.Select(m => m.MeterId).Order(), tree.Select(p => p.MeterId).Order());
        Assert.All(tree, p => Assert.Equal(fleet.Find(p.MeterId)!.Region, p.Region));
        var transformers = tree.GroupBy(p => p.TransformerId).ToList();
        Assert.All(transformers, t => Assert.InRange(t.Count(), FleetTopology.MinMetersPerTransformer, FleetTopology.MaxMetersPerTransformer));
        Assert.All(transformers, t => Assert.Single(t.Select(p => (p.FeederId, p.Region, p.TransformerRatedKw, p.FeederRatedKw)).Distinct()));
        var feeders = transformers.GroupBy(t => t.First().FeederId).ToList();
        Assert.All(feeders, f => Assert.InRange(f.Count(), FleetTopology.MinTransformersPerFeeder, FleetTopology.MaxTransformersPerFeeder));
        // Rated for 55–85 % of the meters' summed peaks (rounded up to 5 kW), the feeder for 80 % of its transformers (up to 50 kW).
        Assert.All(transformers, t =>
        {
            var peaks = t.Sum(p => fleet.Find(p.MeterId)!.PeakKw);
            Assert.InRange(t.First().TransformerRatedKw, peaks * 0.55, peaks * 0.85 + 5);
        });
        Assert.All(feeders, f => Assert.InRange(f.First().First().FeederRatedKw, f.Sum(t => t.First().TransformerRatedKw) * 0.8,
            f.Sum(t => t.First().TransformerRatedKw) * 0.8 + 50));
        Assert.All(tree.SelectMany(p => new[] { p.TransformerId, p.FeederId }), id => Assert.True(Topology.IsValidId(id), id));
    }

    [Fact]
    public void Should_build_the_same_tree_from_the_same_seed_and_another_from_another()
    {
        var once = FleetTopology.Of(MeterFleet.Create(new SimulationOptions { Seed = 3 }));
        var again = FleetTopology.Of(MeterFleet.Create(new SimulationOptions { Seed = 3 }));
        var other = FleetTopology.Of(MeterFleet.Create(new SimulationOptions { Seed = 4 }));

        Assert.Equal(once, again);
        Assert.NotEqual(once.Select(p => p.TransformerId), other.Select(p => p.TransformerId));
    }

    [Fact]
    public void Should_name_nodes_after_their_region_in_the_id_alphabet()
    {
        var fleet = MeterFleet.Create(new SimulationOptions { MeterCount = 60, Regions = [new RegionSpec("Navi Mumbai.East", 100), new RegionSpec("Nashik", 100)] });

        var tree = FleetTopology.Of(fleet);

        Assert.Equal(["FD-NASHIK-01", "FD-NAVI-MUMBAI-EAST-01"], tree.Select(p => p.FeederId).Distinct().Order());
        Assert.Contains(tree, p => p.TransformerId == "TR-NAVI-MUMBAI-EAST-01-01");
    }
}
