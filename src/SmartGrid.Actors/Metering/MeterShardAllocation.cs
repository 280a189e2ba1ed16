using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using SmartGrid.Actors.Hosting;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Places a meter shard on the shard region of the processor that reads its raw_readings partition
/// (<see cref="MeterMessageExtractor"/>: a shard holds one partition's meters), by the rule the telemetry consumer
/// follows (<see cref="TelemetryPartitions.Owners"/>): a partition's readings then go to meters in the reading node's own
/// process, and when another processor dies, the survivor's own partitions asked no meter on it and keep flowing
/// (<see cref="MemberRemovals"/>). A shard whose partition's reader has no region yet (it is starting, or unreachable)
/// goes where least-shards puts it; <see cref="Rebalance"/> moves it home later, and moves the shards of partitions that
/// changed reader when a processor joined, at most <see cref="MaxMovesPerRound"/> a round.
/// <para>Why not Akka's ExternalShardAllocationStrategy: it places shards by locations written to distributed data by
/// some other actor, which would then have to follow the membership and write a location per shard on every change, and
/// it allocates a shard without a location to the requesting region; the decision here needs nothing but the
/// membership, which every node sees, so it is computed where the coordinator needs it.</para>
/// </summary>
public sealed class MeterShardAllocation(string role) : IShardAllocationStrategy, IActorSystemDependentAllocationStrategy
{
    /// <summary>
    /// Three partitions' shards a rebalance round (every 2 s for meters, <see cref="MeterBucketHosting.AddMeters"/>): what a
    /// second processor's join moves, in one round. Each moved shard's meters hand off, and the partitions they held
    /// unpersisted readings of replay; a bound keeps a larger cluster's join from stopping every meter at once.
    /// </summary>
    public const int MaxMovesPerRound = 3 * MeterMessageExtractor.BucketsPerPartition;

    private readonly IShardAllocationStrategy _leastShards = ShardAllocationStrategy.LeastShardAllocationStrategy(absoluteLimit: 20, relativeLimit: 0.1);
    private Cluster? _cluster;

    public void Start(ActorSystem system)
    {
        _cluster = Cluster.Get(system);
        (_leastShards as IActorSystemDependentAllocationStrategy)?.Start(system);
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations) =>
        Placement(currentShardAllocations.Keys).HomeOf(shardId) is { } home
            ? Task.FromResult(home)
            : _leastShards.AllocateShard(requester, shardId, currentShardAllocations);

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
        Task.FromResult<IImmutableSet<string>>(Placement(currentShardAllocations.Keys)
            .Misplaced(currentShardAllocations, rebalanceInProgress, MaxMovesPerRound).ToImmutableHashSet());

    /// <summary>From the coordinator's node's view of the cluster: the role's members, and the regions on members that are Up and reachable.</summary>
    private MeterShardPlacement<IActorRef> Placement(IEnumerable<IActorRef> regions)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("the coordinator starts the strategy before its first allocation");
        var state = cluster.State;
        var members = state.Members.Where(m => m.HasRole(role)).ToDictionary(m => m.UniqueAddress, m => m.Status);
        var live = new Dictionary<IActorRef, UniqueAddress>();
        foreach (var region in regions)
        {
            // The coordinator's own node's region has a local path, without host or port.
            var address = region.Path.Address.HasGlobalScope ? region.Path.Address : cluster.SelfAddress;
            var member = state.Members.FirstOrDefault(m => m.Address == address);
            if (member is { Status: MemberStatus.Up } && !state.Unreachable.Contains(member))
                live[region] = member.UniqueAddress;
        }
        return MeterShardPlacement.For(members, live);
    }
}

/// <summary>The decisions of <see cref="MeterShardAllocation"/>, apart from Akka (a region is any key).</summary>
public static class MeterShardPlacement
{
    /// <param name="members">The processor members and their status (as <see cref="TelemetryPartitions.Owners"/> takes them).</param>
    /// <param name="liveRegions">The regions that may take shards (their member Up and reachable), with their member.</param>
    public static MeterShardPlacement<TRegion> For<TRegion>(IReadOnlyDictionary<UniqueAddress, MemberStatus> members, IReadOnlyDictionary<TRegion, UniqueAddress> liveRegions)
        where TRegion : notnull
    {
        var owners = TelemetryPartitions.Owners(members, []);
        var byMember = liveRegions.ToDictionary(r => TelemetryPartitions.Key(r.Value), r => r.Key, StringComparer.Ordinal);
        var homes = new Dictionary<int, TRegion>();
        for (var partition = 0; partition < owners.Length; partition++)
            if (owners[partition] is { } owner && byMember.TryGetValue(owner, out var region))
                homes[partition] = region;
        return new MeterShardPlacement<TRegion>(homes, liveRegions.Keys.ToHashSet());
    }
}

/// <summary>Where each partition's shards belong; see <see cref="MeterShardPlacement.For"/>.</summary>
/// <param name="Homes">Each partition's home: the live region on the member that reads it, when there is one.</param>
/// <param name="Live">The regions that may take shards and hand them off: on members that are Up and reachable.</param>
public sealed record MeterShardPlacement<TRegion>(IReadOnlyDictionary<int, TRegion> Homes, IReadOnlySet<TRegion> Live) where TRegion : notnull
{
    /// <summary>Where a new shard goes: its partition's home; null (least shards decides) when it has none.</summary>
    public TRegion? HomeOf(string shardId) =>
        MeterMessageExtractor.PartitionOf(shardId) is { } partition && Homes.TryGetValue(partition, out var home) ? home : default;

    /// <summary>
    /// Shards on a live region that is not their partition's home, when the home is a live region: a partition at a
    /// time, at most <paramref name="limit"/>. A shard on a region whose member is down or unreachable stays: its hand-off
    /// would wait for an answer that cannot come; the coordinator reallocates it once that region is gone.
    /// </summary>
    public IReadOnlyList<string> Misplaced(IEnumerable<KeyValuePair<TRegion, IImmutableList<string>>> current, IImmutableSet<string> inProgress, int limit)
    {
        return current
            .SelectMany(r => r.Value.Select(shard => (Region: r.Key, Shard: shard)))
            .Where(x => !inProgress.Contains(x.Shard) && HomeOf(x.Shard) is { } home && !EqualityComparer<TRegion>.Default.Equals(home, x.Region)
                        && Live.Contains(x.Region))
            .OrderBy(x => MeterMessageExtractor.PartitionOf(x.Shard)).ThenBy(x => x.Shard, StringComparer.Ordinal)
            .Take(limit)
            .Select(x => x.Shard)
            .ToList();
    }
}
