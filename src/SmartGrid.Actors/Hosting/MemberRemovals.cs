using Akka.Actor;
using Akka.Cluster;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// A token cancelled when another member of a role leaves the cluster (downed after a crash, or
/// gone). Messages sent to the dead member's entities before its shards moved are lost, and their
/// asks would otherwise wait out their whole timeout (a minute), holding every partition of the
/// stream behind them: cancelling fails the partition runs at once, each partition is read again
/// from its commits (the consumer stays in its group), and the shards answer from their new homes.
/// Each partition run takes <see cref="Token"/> when it starts.
/// </summary>
public sealed class MemberRemovals : IDisposable
{
    private CancellationTokenSource _current = new();

    private MemberRemovals() { }

    public CancellationToken Token => Volatile.Read(ref _current).Token;

    /// <summary>Raised after <see cref="Token"/> was cancelled, on the watcher's thread: keep handlers short.</summary>
    public event Action? Removed;

    public static MemberRemovals Watch(ActorSystem system, string role)
    {
        var removals = new MemberRemovals();
        system.ActorOf(Props.Create(() => new Watcher(removals, role)), "member-removals-" + role);
        system.RegisterOnTermination(removals.Dispose);
        return removals;
    }

    public void Dispose() => Volatile.Read(ref _current).Dispose();

    private void OnRemoved()
    {
        Interlocked.Exchange(ref _current, new CancellationTokenSource()).Cancel();
        Removed?.Invoke();
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(MemberRemovals removals, string role)
        {
            var cluster = Cluster.Get(Context.System);
            Receive<ClusterEvent.MemberRemoved>(e =>
            {
                if (e.Member.HasRole(role) && e.Member.Address != cluster.SelfAddress) removals.OnRemoved();
            });
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        }

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
