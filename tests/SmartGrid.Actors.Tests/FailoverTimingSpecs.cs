using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Hosting;
using SmartGrid.Actors.Hosting;
using SmartGrid.Testing;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// The failover timings of hocon/akka.hocon as the node's actor system reads them (README "Failover" 1 and 3): a
/// removed member's shards and singletons start elsewhere only once the other side of a partition has downed itself,
/// which both sides decide from the same <c>stable-after</c>, so the removal margin must cover the spread of the two
/// decisions, and need not be a second <c>stable-after</c>.
/// </summary>
public sealed class FailoverTimingSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    /// <summary>Akka.NET's split-brain resolver decides on a fixed 1 s tick.</summary>
    private static readonly TimeSpan ResolverTick = TimeSpan.FromSeconds(1);

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) =>
        builder.AddSmartGridCluster(new ClusterMembership { Port = 0 }, Database.ConnectionString, [ProcessorRole],
            Path.Combine(NodeProcess.RepositoryRoot(), "hocon", "akka.hocon"));

    [Fact]
    public void Should_start_a_removed_members_shards_and_singletons_after_both_sides_have_decided_and_before_a_second_stable_after()
    {
        var cluster = Cluster.Get(Sys);
        var margin = cluster.DowningProvider.DownRemovalMargin;
        var stableAfter = Sys.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
        // Two observers of the same silence mark it unreachable up to a heartbeat and a reaper round apart, and each
        // side's resolver acts on its own tick.
        var spread = cluster.Settings.HeartbeatInterval + cluster.Settings.UnreachableNodesReaperInterval + ResolverTick;

        Assert.True(margin >= spread, $"removal margin {margin} is shorter than the spread of the two sides' decisions {spread}");
        Assert.True(margin < stableAfter, $"removal margin {margin} waits a second stable-after ({stableAfter}) for nothing");
        // The singletons (the shard coordinators among them) wait the same margin before starting here.
        Assert.Equal(margin, ClusterSingletonManagerSettings.Create(Sys).RemovalMargin);
    }
}
