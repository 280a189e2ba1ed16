using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using SmartGrid.Contracts.Management;

namespace SmartGrid.Node.Management;

/// <summary>
/// <c>cluster tail</c>: the current members, then every membership and reachability change as one
/// JSON line each (application/x-ndjson), until the client goes away or the node stops.
/// </summary>
public sealed class MembershipTail(ActorSystem system)
{
    public async Task StreamAsync(HttpResponse response, CancellationToken ct)
    {
        var changes = Channel.CreateBounded<MembershipChange>(new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropOldest });
        var listener = system.ActorOf(Props.Create(() => new Listener(changes.Writer)), $"cmd-tail-{Guid.NewGuid():N}");
        try
        {
            response.ContentType = "application/x-ndjson";
            await response.StartAsync(ct);
            await foreach (var change in changes.Reader.ReadAllAsync(ct))
            {
                await response.WriteAsync(JsonSerializer.Serialize(change) + "\n", ct);
                await response.Body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The operator pressed Ctrl+C (the connection closed) or the node is stopping.
        }
        finally
        {
            listener.Tell(PoisonPill.Instance);
        }
    }

    private sealed class Listener : ReceiveActor
    {
        public Listener(ChannelWriter<MembershipChange> changes)
        {
            void Write(string what, Member m) =>
                changes.TryWrite(new MembershipChange(DateTimeOffset.UtcNow, what, m.Address.ToString(), m.Status.ToString(), string.Join(",", m.Roles.OrderBy(r => r))));

            Receive<ClusterEvent.CurrentClusterState>(s =>
            {
                foreach (var m in s.Members) Write(s.Unreachable.Contains(m) ? "member (unreachable)" : "member", m);
            });
            Receive<ClusterEvent.MemberUp>(e => Write("MemberUp", e.Member));
            Receive<ClusterEvent.MemberJoined>(e => Write("MemberJoined", e.Member));
            Receive<ClusterEvent.MemberWeaklyUp>(e => Write("MemberWeaklyUp", e.Member));
            Receive<ClusterEvent.MemberLeft>(e => Write("MemberLeft", e.Member));
            Receive<ClusterEvent.MemberExited>(e => Write("MemberExited", e.Member));
            Receive<ClusterEvent.MemberDowned>(e => Write("MemberDowned", e.Member));
            Receive<ClusterEvent.MemberRemoved>(e => Write("MemberRemoved", e.Member));
            Receive<ClusterEvent.UnreachableMember>(e => Write("Unreachable", e.Member));
            Receive<ClusterEvent.ReachableMember>(e => Write("Reachable", e.Member));
            Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        }

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
