using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// Calls <c>onLoss</c> when another processor is removed after being downed (it died; it did not leave).
/// Its meters went with it: readings asked of them will never be answered, and readings they had applied
/// but not checkpointed are gone, so the telemetry stream must read again from the committed offsets now,
/// not once its asks time out.
/// </summary>
public sealed class ProcessorLossWatcher : ReceiveActor
{
    public ProcessorLossWatcher(Action<Member> onLoss)
    {
        var log = Context.GetLogger();
        var cluster = Cluster.Get(Context.System);
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            if (e.PreviousStatus != MemberStatus.Down || !e.Member.HasRole(NodeRoles.Processor) || e.Member.Address == cluster.SelfAddress)
                return;
            log.Warning("Processor {0} died: re-reading the telemetry from the committed offsets", e.Member.Address);
            onLoss(e.Member);
        });
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
