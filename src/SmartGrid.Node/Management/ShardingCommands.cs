using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts.Management;

namespace SmartGrid.Node.Management;

/// <summary>
/// The <c>cluster-sharding</c> palette, from Akka's own queries: GetCurrentRegions, GetClusterShardingStats
/// (every region's shards and entity counts, gathered by the coordinator) and GetShardRegionState (this
/// node's region). The coordinator's node is found by identifying its singleton on each member. For the meter type, whose
/// entities are buckets of meters (<see cref="MeterBucket"/>), the tables add the meters the buckets hold in memory.
/// </summary>
public sealed class ShardingCommands(ActorSystem system)
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan IdentifyTimeout = TimeSpan.FromSeconds(3);

    private ClusterSharding Sharding => ClusterSharding.Get(system);

    public async Task<CommandOutput> RegionsAsync()
    {
        var table = new TableBuilder("shard regions", "type", "here", "regions", "local shards", "local entities");
        foreach (var type in Sharding.ShardTypeNames.Order(StringComparer.Ordinal))
        {
            var region = Sharding.ShardRegion(type);
            var isProxy = region.Path.Name.EndsWith("Proxy", StringComparison.Ordinal);
            var regions = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, QueryTimeout);
            if (isProxy)
            {
                table.Row(type, "proxy", regions.Regions.Count, "", "");
                continue;
            }
            var local = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, QueryTimeout);
            table.Row(type, "region", regions.Regions.Count, local.Shards.Count, local.Shards.Sum(s => s.EntityIds.Count));
        }
        return CommandOutput.Of(table.Build());
    }

    /// <summary>
    /// Per node: shards, entities, whether the type's coordinator runs there, and for meters the meters in memory; the last
    /// row is the total.
    /// </summary>
    public async Task<CommandOutput> RegionStatsAsync(string? type)
    {
        var stats = await StatsAsync(type);
        var coordinator = await CoordinatorAsync(type!);
        var meters = await MetersAsync(type!, stats);
        var table = new TableBuilder($"{type} regions", "address", "shards", "entities", "failed shards", "coordinator", "meters");
        foreach (var (address, region) in stats.Regions.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal))
            table.Row(address, region.Stats.Count, region.Stats.Values.Sum(), region.Failed.Count, address.Equals(coordinator) ? "*" : "",
                meters is null ? "" : region.Stats.Keys.Sum(shard => meters.GetValueOrDefault(shard)));
        table.Row("total", stats.Regions.Values.Sum(r => r.Stats.Count), stats.Regions.Values.Sum(r => r.Stats.Values.Sum()),
            stats.Regions.Values.Sum(r => r.Failed.Count), coordinator is null ? "not found" : "", meters is null ? "" : meters.Values.Sum());
        return CommandOutput.Of(table.Build());
    }

    public async Task<CommandOutput> ShardStatsAsync(string? type)
    {
        var stats = await StatsAsync(type);
        var meters = await MetersAsync(type!, stats);
        var table = new TableBuilder($"{type} shards", "shard", "address", "entities", "meters");
        foreach (var (address, region) in stats.Regions.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal))
        foreach (var (shard, entities) in region.Stats.OrderBy(s => s.Key, ShardOrder.Instance))
            table.Row(shard, address, entities, meters is null ? "" : meters.GetValueOrDefault(shard));
        return CommandOutput.Of(table.Build())
            .With($"{stats.Regions.Values.Sum(r => r.Stats.Count)} shard(s), {stats.Regions.Values.Sum(r => r.Stats.Values.Sum())} entities on {stats.Regions.Count} region(s)" +
                  (meters is null ? "" : $", {meters.Values.Sum()} meters in memory"));
    }

    /// <summary>
    /// For the meter type, the meters each shard's bucket holds in memory, asked of the buckets the stats list (asking does
    /// not start a bucket that is not running); null for other types. A bucket that does not answer in time counts none.
    /// </summary>
    private async Task<Dictionary<string, int>?> MetersAsync(string type, ClusterShardingStats stats)
    {
        if (type != MeterBucket.TypeName) return null;
        var region = Sharding.ShardRegion(type);
        var buckets = stats.Regions.Values.SelectMany(r => r.Stats.Where(s => s.Value > 0).Select(s => s.Key)).Distinct().ToList();
        var answers = await Task.WhenAll(buckets.Select(async bucket =>
        {
            try
            {
                return (bucket, (await region.Ask<BucketStatus>(new GetBucketStatus(bucket), QueryTimeout)).ActiveMeters);
            }
            catch (AskTimeoutException)
            {
                return (bucket, 0);
            }
        }));
        return answers.ToDictionary(a => a.bucket, a => a.Item2);
    }

    private async Task<ClusterShardingStats> StatsAsync(string? type)
    {
        var region = Region(type);
        try
        {
            return await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(QueryTimeout), QueryTimeout + TimeSpan.FromSeconds(2));
        }
        catch (AskTimeoutException)
        {
            throw CommandException.Unavailable($"the {type} coordinator did not answer within {QueryTimeout.TotalSeconds:0} s (no coordinator yet, or it is moving)");
        }
    }

    private IActorRef Region(string? type)
    {
        if (string.IsNullOrWhiteSpace(type))
            throw CommandException.BadInput("r", $"the shard type is required (-r), one of: {string.Join(", ", Sharding.ShardTypeNames.Order(StringComparer.Ordinal))}");
        if (!Sharding.ShardTypeNames.Contains(type))
            throw CommandException.NotFound("Unknown shard type", $"no shard region '{type}' on this node; known: {string.Join(", ", Sharding.ShardTypeNames.Order(StringComparer.Ordinal))}");
        return Sharding.ShardRegion(type);
    }

    /// <summary>The member whose coordinator singleton for <paramref name="type"/> answers, or null while it is moving.</summary>
    private async Task<Address?> CoordinatorAsync(string type)
    {
        var members = Cluster.Get(system).State.Members.Where(m => m.Status == MemberStatus.Up).ToList();
        var found = await Task.WhenAll(members.Select(async m =>
        {
            var path = new RootActorPath(m.Address) / "system" / "sharding" / $"{type}Coordinator" / "singleton" / "coordinator";
            try
            {
                var identity = await system.ActorSelection(path).Ask<ActorIdentity>(new Identify(type), IdentifyTimeout);
                return identity.Subject is null ? null : m.Address;
            }
            catch (AskTimeoutException)
            {
                return null;
            }
        }));
        return found.FirstOrDefault(a => a is not null);
    }

    /// <summary>Shard ids are numbers here ("0".."99"): order them as numbers.</summary>
    private sealed class ShardOrder : IComparer<string>
    {
        public static readonly ShardOrder Instance = new();

        public int Compare(string? x, string? y) =>
            int.TryParse(x, out var a) && int.TryParse(y, out var b) ? a.CompareTo(b) : string.CompareOrdinal(x, y);
    }
}
