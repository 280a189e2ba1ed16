using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;

namespace SmartGrid.Node.Metrics;

/// <summary>
/// Cluster gauges (Meter <see cref="MeterName"/>) as this node sees them: members by status,
/// unreachable members, and shards and active entities per shard type hosted here. Membership
/// is read from the cluster's current state at scrape time (an immutable snapshot, free);
/// the sharding figures ask the local shard regions every <see cref="ShardingInterval"/> and
/// a scrape reads the last answer, so scraping never waits on the actor system.
/// </summary>
public sealed class ClusterMetrics : BackgroundService
{
    public const string MeterName = "SmartGrid.Cluster";
    public static readonly TimeSpan ShardingInterval = TimeSpan.FromSeconds(5);

    private static readonly MemberStatus[] Statuses = Enum.GetValues<MemberStatus>();

    private readonly IServiceProvider _services;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ClusterMetrics> _log;
    private readonly ConcurrentDictionary<string, (int Shards, int Entities)> _sharding = new(StringComparer.Ordinal);
    private volatile ActorSystem? _system;

    public ClusterMetrics(IServiceProvider services, IHostApplicationLifetime lifetime, IMeterFactory meterFactory,
        NodeIdentity identity, ILogger<ClusterMetrics> log)
    {
        _services = services;
        _lifetime = lifetime;
        _log = log;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("members", ObserveMembers, "{member}",
            "Cluster members by status, as this node sees them");
        meter.CreateObservableGauge("members.unreachable", ObserveUnreachable, "{member}",
            "Members this node's failure detector considers unreachable");
        meter.CreateObservableGauge("sharding.shards", () => Sharding(s => s.Shards), "{shard}",
            "Shards hosted on this node, per shard type");
        meter.CreateObservableGauge("sharding.entities", () => Sharding(s => s.Entities), "{entity}",
            "Active (started) entities hosted on this node, per shard type");
        var roles = string.Join(",", identity.Roles);
        meter.CreateObservableGauge("node.info", () => ObserveInfo(roles), null,
            "Always 1; its labels say which roles and cluster address this node has");
    }

    // Nothing until the actor system runs: a series without the address would linger beside the real one.
    private IEnumerable<Measurement<int>> ObserveInfo(string roles)
    {
        if (_system is not { } system) yield break;
        yield return new Measurement<int>(1,
            new KeyValuePair<string, object?>("roles", roles),
            new KeyValuePair<string, object?>("address", Cluster.Get(system).SelfAddress.ToString()));
    }

    private IEnumerable<Measurement<int>> ObserveMembers()
    {
        if (_system is not { } system) yield break;
        var members = Cluster.Get(system).State.Members;
        foreach (var status in Statuses)
            yield return new Measurement<int>(members.Count(m => m.Status == status),
                new KeyValuePair<string, object?>("status", status.ToString()));
    }

    private IEnumerable<Measurement<int>> ObserveUnreachable()
    {
        if (_system is not { } system) yield break;
        yield return new Measurement<int>(Cluster.Get(system).State.Unreachable.Count);
    }

    private IEnumerable<Measurement<int>> Sharding(Func<(int Shards, int Entities), int> figure) =>
        _sharding.Select(s => new Measurement<int>(figure(s.Value), new KeyValuePair<string, object?>("type", s.Key)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The actor system exists once every hosted service (Akka's among them) has started.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        _system = _services.GetRequiredService<ActorSystem>();
        var sharding = ClusterSharding.Get(_system);

        using var timer = new PeriodicTimer(ShardingInterval);
        do
        {
            foreach (var type in sharding.ShardTypeNames)
            {
                try
                {
                    // Longer than the region's own shard query timeout (3 s): the region always answers, with slow
                    // shards counted as failed, and a reply that outlived our ask would only become a dead letter.
                    // Counts, not the entity ids (GetShardRegionState): every shard listed every meter id every 5 s,
                    // 50,000 strings in a soak, and shards busy starting a fleet answered too late, as dead letters of those lists.
                    var stats = await sharding.ShardRegion(type).Ask<ShardRegionStats>(GetShardRegionStats.Instance, TimeSpan.FromSeconds(10), stoppingToken);
                    _sharding[type] = (stats.Stats.Count, stats.Stats.Values.Sum());
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    // A busy region answers next time; the gauge keeps its last figure meanwhile.
                    _log.ShardRegionSilent(type);
                }
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }
}
