using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace SmartGrid.Actors.Hosting;

/// <summary>Logs membership changes, so an operator reading the node's log sees the cluster form and shrink.</summary>
public sealed class ClusterListener : ReceiveActor
{
    public ClusterListener()
    {
        var log = Context.GetLogger();
        var cluster = Cluster.Get(Context.System);
        Receive<ClusterEvent.MemberUp>(e => log.Info("MemberUp {0} roles [{1}]", e.Member.Address, string.Join(",", e.Member.Roles)));
        Receive<ClusterEvent.MemberRemoved>(e => log.Info("MemberRemoved {0} (was {1})", e.Member.Address, e.PreviousStatus));
        Receive<ClusterEvent.UnreachableMember>(e => log.Warning("Unreachable {0}", e.Member.Address));
        Receive<ClusterEvent.ReachableMember>(e => log.Info("Reachable again {0}", e.Member.Address));
        Receive<ClusterEvent.LeaderChanged>(e => log.Info("Leader is {0}", e.Leader?.ToString() ?? "none"));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
