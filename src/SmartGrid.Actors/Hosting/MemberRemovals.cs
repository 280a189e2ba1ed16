using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// Member removals as the telemetry stream's partition runs see them. When another member of the role leaves the
/// cluster (downed after a crash, or gone), messages sent to its entities before its shards moved are lost, and their
/// asks would otherwise wait out their whole timeout (a minute), holding the partition behind them. Each run watches
/// the removals (<see cref="RunWatch"/>): a run that asked a meter in a shard this node's region did not host when the
/// member was removed is abandoned at once, and its partition is read again from its commits once the removal's
/// <see cref="Removal.HandedOver"/> completes; a run that asked only meters hosted here goes on. With the meters' shards
/// on the node that reads their partition (<see cref="Metering.MeterShardAllocation"/>), that spares the survivors' own
/// partitions: only the dead member's partitions replay.
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

    /// <summary>How long the local region may take to list its shards (it asks each, within its own 3 s query timeout).</summary>
    private static readonly TimeSpan LocalShardsTimeout = TimeSpan.FromSeconds(5);

    private Removal _current = new();

    private MemberRemovals() { }

    /// <summary>The next removal: what a partition run watches when it starts (<see cref="RunWatch"/>).</summary>
    public Removal Current => Volatile.Read(ref _current);

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
    /// One removal as the runs started before it see it: <see cref="LocalShards"/> are the shards this node's region
    /// hosted when the member was removed (a run that asked only those goes on); <see cref="HandedOver"/> completes once
    /// asks reach the dead member's shards' new homes.
    /// </summary>
    public sealed class Removal : IDisposable
    {
        private readonly CancellationTokenSource _occurred = new();
        private readonly TaskCompletionSource _handedOver = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private IReadOnlySet<string> _localShards = new HashSet<string>();

        public IReadOnlySet<string> LocalShards => Volatile.Read(ref _localShards);

        public Task HandedOver => _handedOver.Task;

        /// <summary>Calls <paramref name="removed"/> once the member is removed (at once, on this thread, if it already was).</summary>
        internal CancellationTokenRegistration OnRemoved(Action removed) => _occurred.Token.Register(removed);

        internal void Remove(IReadOnlySet<string> localShards)
        {
            Volatile.Write(ref _localShards, localShards);
            _occurred.Cancel();
        }

        internal void HandOver() => _handedOver.TrySetResult();

        public void Dispose() => _occurred.Dispose();
    }

    /// <summary>
    /// What one partition run asked, against the removals: <see cref="Token"/> is cancelled (the run's asks stop waiting)
    /// when a member is removed and the run had asked a meter in a shard this node did not host then, or asks one while
    /// that removal's shards are still moving; <see cref="HandedOver"/> is then that removal's. A run that asked only
    /// shards hosted here watches the next removal.
    /// </summary>
    public sealed class RunWatch : IDisposable
    {
        private readonly Func<Removal>? _next;
        private readonly CancellationTokenSource _abandon = new();
        private readonly HashSet<string> _asked = new(StringComparer.Ordinal);
        private readonly object _gate = new();
        private CancellationTokenRegistration _watching;
        private Removal? _spared;
        private Removal? _abandonedBy;
        private bool _disposed;

        /// <param name="next">The next removal (<see cref="Current"/>); null: the run is never abandoned.</param>
        public RunWatch(Func<Removal>? next)
        {
            _next = next;
            Watch();
        }

        public CancellationToken Token => _abandon.Token;

        /// <summary>When an abandoned run may read its partition again: once the removal that abandoned it handed its shards over.</summary>
        public Task HandedOver => Volatile.Read(ref _abandonedBy)?.HandedOver ?? Task.CompletedTask;

        /// <summary>Before the run sends a meter in <paramref name="shard"/> a message.</summary>
        public void Asking(string shard)
        {
            Removal? abandon = null;
            lock (_gate)
            {
                if (!_asked.Add(shard) || _abandonedBy is not null || _disposed) return;
                // A shard not hosted here, asked while the dead member's shards move, may still be routed to the dead region.
                if (_spared is { } spared && !spared.HandedOver.IsCompleted && !spared.LocalShards.Contains(shard))
                    abandon = _abandonedBy = spared;
            }
            if (abandon is not null) Cancel();
        }

        private void Watch()
        {
            if (_next?.Invoke() is not { } removal) return;
            lock (_gate)
            {
                if (_disposed) return;
                // Unregister, not Dispose: this may run in the previous removal's callback, which Dispose would wait for.
                _watching.Unregister();
                _watching = default;
            }
            CancellationTokenRegistration registration;
            try
            {
                registration = removal.OnRemoved(() => Removed(removal));
            }
            catch (ObjectDisposedException)
            {
                return; // The actor system is terminating.
            }
            lock (_gate)
            {
                if (_disposed) registration.Unregister();
                else _watching = registration;
            }
        }

        private void Removed(Removal removal)
        {
            bool abandon;
            lock (_gate)
            {
                if (_disposed || _abandonedBy is not null) return;
                abandon = !_asked.All(removal.LocalShards.Contains);
                if (abandon) _abandonedBy = removal;
                else _spared = removal;
            }
            if (abandon) Cancel();
            else Watch();
        }

        private void Cancel()
        {
            try
            {
                _abandon.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run ended meanwhile: nothing of it waits any more.
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                _watching.Unregister();
            }
            _abandon.Dispose();
        }
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
                _ = AbandonAsync(removal, e.Member.Address);
                _ = HandOverThenRaise(removal, e.Member.Address);
            });
            cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));

            async Task AbandonAsync(Removal removal, Address dead)
            {
                HashSet<string> local;
                try
                {
                    // The shards this node hosts: a run that asked only these has every answer coming.
                    var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, LocalShardsTimeout);
                    local = state.Shards.Select(s => s.ShardId).ToHashSet(StringComparer.Ordinal);
                }
                catch (Exception ex)
                {
                    // Not knowing is abandoning every run that asked anything, as before there was co-location.
                    log.Warning("member removals: this node's shards unknown ({0}); abandoning every run", ex.Message);
                    local = new HashSet<string>();
                }
                log.Info("member removals: {0} removed; runs that asked a shard outside this node's {1} replay", dead, local.Count);
                removal.Remove(local);
            }

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
