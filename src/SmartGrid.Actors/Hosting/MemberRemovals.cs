using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// A token cancelled when another member of a role leaves the cluster (downed after a crash, or
/// gone). Messages sent to the dead member's entities before its shards moved are lost, and their
/// asks would otherwise wait out their whole timeout (a minute), holding every partition of the
/// stream behind them: cancelling fails the partition runs at once, each partition is read again
/// from its commits (the consumer stays in its group), and the shards answer from their new homes.
/// Each partition run takes <see cref="Current"/> when it starts, and replays only once that removal's
/// <see cref="Removal.HandedOver"/> completes.
/// </summary>
public sealed class MemberRemovals : IDisposable
{
    /// <summary>Between two polls of the shard coordinator's view while a dead member's region is still in it.</summary>
    private static readonly TimeSpan ViewPoll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long one look at the coordinator's view may take. When the dead member ran the coordinator, the local region
    /// may forward the first look to it before its own death watch fires, and that one is never answered: with 5 s here
    /// that wait, not the 2 s removal margin, set when the replays began (5.5 s after the removal). A live coordinator
    /// answers in milliseconds, and a look that times out is only taken again.
    /// </summary>
    private static readonly TimeSpan ViewAskTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a replay waits for the coordinator to drop the dead region at most: it drops it its removal margin
    /// (<c>akka.cluster.down-removal-margin</c>) after the removal, plus a singleton hand-over when the coordinator died too.
    /// </summary>
    public static readonly TimeSpan HandoverLimit = TimeSpan.FromSeconds(30);

    private Removal _current = new();

    private MemberRemovals() { }

    /// <summary>What a partition run takes when it starts: cancelled by the next removal, and when that removal's shards have moved.</summary>
    public Removal Current => Volatile.Read(ref _current);

    public CancellationToken Token => Current.Token;

    /// <summary>Raised after a removal's shards were handed over (<see cref="Removal.HandedOver"/>), on a pool thread: keep handlers short.</summary>
    public event Action? Removed;

    /// <param name="region">The shard region whose asks a removal abandons; its coordinator's view says when the dead member's shards can be asked again.</param>
    public static MemberRemovals Watch(ActorSystem system, string role, IActorRef region)
    {
        var removals = new MemberRemovals();
        system.ActorOf(Props.Create(() => new Watcher(removals, role, region)), "member-removals-" + role);
        system.RegisterOnTermination(removals.Dispose);
        return removals;
    }

    public void Dispose() => Current.Dispose();

    /// <summary>
    /// One removal as the runs started before it see it: <see cref="Removal.Token"/> is cancelled as soon as the member is
    /// removed (the asks stop waiting); <see cref="HandedOver"/> completes once asks reach the shards' new homes.
    /// </summary>
    public sealed class Removal : IDisposable
    {
        private readonly CancellationTokenSource _abandon = new();
        private readonly TaskCompletionSource _handedOver = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken Token => _abandon.Token;

        public Task HandedOver => _handedOver.Task;

        internal void Abandon() => _abandon.Cancel();

        internal void HandOver() => _handedOver.TrySetResult();

        public void Dispose() => _abandon.Dispose();
    }

    /// <summary>
    /// Why a replay waits: the survivor's region forgets the dead region when its own death watch fires, which races
    /// with this removal event; a replay asked before that went to the dead region and was never answered (one
    /// failover took 88 s: the ask timeout). And while the coordinator keeps the dead region's shards (its removal
    /// margin) it answers nothing for them, but a region that asked just before could be told the dead home again.
    /// So: wait until the coordinator's view no longer lists the dead member, then let the local region take two
    /// messages in turn, so the death notice it queued for itself is handled before any replayed reading.
    /// </summary>
    public static async Task HandOverAsync(IActorRef region, Address dead, ILoggingAdapter log)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < HandoverLimit)
        {
            try
            {
                var view = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, ViewAskTimeout);
                // Empty: the region knows no coordinator yet (the dead member ran it and its successor is starting).
                if (view.Regions.Count > 0 && !view.Regions.Contains(dead))
                {
                    for (var turn = 0; turn < 2; turn++)
                        await region.Ask<ActorIdentity>(new Identify(turn), TimeSpan.FromSeconds(5));
                    log.Info("member removals: {0}'s shards left the coordinator's view {1:F1} s after its removal; replaying",
                        dead, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                    return;
                }
            }
            catch (AskTimeoutException)
            {
                // A coordinator that is moving does not answer; poll again.
            }
            await Task.Delay(ViewPoll);
        }
        log.Warning("member removals: the coordinator still listed {0} after {1}; replaying anyway", dead, HandoverLimit);
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(MemberRemovals removals, string role, IActorRef region)
        {
            var cluster = Cluster.Get(Context.System);
            var log = Context.GetLogger();
            Receive<ClusterEvent.MemberRemoved>(e =>
            {
                if (!e.Member.HasRole(role) || e.Member.Address == cluster.SelfAddress) return;
                var removal = Interlocked.Exchange(ref removals._current, new Removal());
                removal.Abandon();
                _ = HandOverThenRaise(removal, e.Member.Address);
            });
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));

            async Task HandOverThenRaise(Removal removal, Address dead)
            {
                try
                {
                    await HandOverAsync(region, dead, log);
                }
                catch (Exception ex)
                {
                    log.Warning("member removals: waiting for {0}'s shards to move failed ({1}); replaying anyway", dead, ex.Message);
                }
                removal.HandOver();
                removals.Removed?.Invoke();
            }
        }

        protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
