using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// Where <see cref="MeterShardAllocation"/> puts a meter shard, and what its rebalance moves (the decisions, without an
/// actor system: a region is its name here). The rule is the telemetry consumer's: a partition's shards go to the region
/// on the member that reads the partition.
/// </summary>
public sealed class MeterShardAllocationSpecs
{
    private static readonly UniqueAddress A = Member(1), B = Member(2), C = Member(3);
    private static readonly ImmutableHashSet<string> NoneMoving = ImmutableHashSet<string>.Empty;

    private static UniqueAddress Member(int n) => new(new Address("akka.tcp", "smartgrid", "127.0.0.1", 4000 + n), 7919 * n);

    private static string RegionOf(UniqueAddress member) => $"region@{member.Address.Port}";

    private static MeterShardPlacement<string> Placement((UniqueAddress Member, MemberStatus Status)[] members, params UniqueAddress[] liveRegions) =>
        MeterShardPlacement.For(members.ToDictionary(m => m.Member, m => m.Status), liveRegions.ToDictionary(RegionOf, m => m));

    private static IEnumerable<string> ShardsOf(int partition) =>
        Enumerable.Range(0, MeterMessageExtractor.BucketsPerPartition).Select(b => MeterMessageExtractor.ShardOf(partition, b));

    private static IEnumerable<string> AllShards => Enumerable.Range(0, TelemetryPartitions.Count).SelectMany(ShardsOf);

    [Fact]
    public void Should_put_each_meter_in_a_shard_of_its_own_partition()
    {
        var shards = new HashSet<string>();
        foreach (var meter in Enumerable.Range(0, 20_000).Select(n => $"MTR-{n:D8}"))
        {
            // A meter's status query goes to its bucket, whose entity id is its shard id.
            var extractor = new MeterMessageExtractor();
            var bucket = extractor.EntityId(new GetMeterStatus(meter))!;
            var shard = extractor.ShardId(bucket, null);
            Assert.Equal(bucket, shard);
            Assert.Equal(MeterPartition.Of(meter, TelemetryPartitions.Count), MeterMessageExtractor.PartitionOf(shard));
            shards.Add(shard);
        }
        // Every bucket of every partition is used: 96 shards, no more.
        Assert.Equal(AllShards.ToHashSet(), shards);
        Assert.Equal(96, MeterMessageExtractor.ShardCount);
        // The former placement's ids past the new range belong to no partition.
        Assert.All(new[] { "96", "99", "x" }, id => Assert.Null(MeterMessageExtractor.PartitionOf(id)));
    }

    [Fact]
    public void Should_allocate_a_shard_to_the_region_of_the_member_that_reads_its_partition()
    {
        (UniqueAddress, MemberStatus)[] view = [(A, MemberStatus.Up), (B, MemberStatus.Up), (C, MemberStatus.Up)];
        var placement = Placement(view, A, B, C);
        foreach (var member in new[] { A, B, C })
        foreach (var partition in TelemetryPartitions.Owned(member, view.ToDictionary(m => m.Item1, m => m.Item2), []))
            Assert.All(ShardsOf(partition), shard => Assert.Equal(RegionOf(member), placement.HomeOf(shard)));
        Assert.Null(placement.HomeOf("97"));
    }

    [Fact]
    public void Should_leave_a_shard_to_least_shards_while_its_partitions_reader_has_no_live_region()
    {
        // B is Up and reads its partitions, but its region has not registered (or B is unreachable): no home for those.
        (UniqueAddress, MemberStatus)[] view = [(A, MemberStatus.Up), (B, MemberStatus.Up)];
        var placement = Placement(view, A);
        var ofB = TelemetryPartitions.Owned(B, view.ToDictionary(m => m.Item1, m => m.Item2), []);
        Assert.NotEmpty(ofB);
        Assert.All(ofB.SelectMany(ShardsOf), shard => Assert.Null(placement.HomeOf(shard)));
        Assert.Equal(TelemetryPartitions.Count - ofB.Count, placement.Homes.Count);
    }

    [Fact]
    public void Should_keep_the_survivors_partitions_home_through_a_failover_and_take_the_dead_members_once_it_is_removed()
    {
        (UniqueAddress, MemberStatus)[] both = [(A, MemberStatus.Up), (B, MemberStatus.Up)];
        var before = Placement(both, A, B);
        // B crashed: downed (its region is not live), then removed.
        var downed = Placement([(A, MemberStatus.Up), (B, MemberStatus.Down)], A);
        var removed = Placement([(A, MemberStatus.Up)], A);
        var ofA = TelemetryPartitions.Owned(A, both.ToDictionary(m => m.Item1, m => m.Item2), []);
        foreach (var shard in ofA.SelectMany(ShardsOf))
        {
            Assert.Equal(RegionOf(A), before.HomeOf(shard));
            Assert.Equal(RegionOf(A), downed.HomeOf(shard));
            Assert.Equal(RegionOf(A), removed.HomeOf(shard));
        }
        // While B is down its partitions have no home (B still holds them, as the consumer's rule says); once removed, A's.
        foreach (var shard in AllShards.Except(ofA.SelectMany(ShardsOf)))
        {
            Assert.Null(downed.HomeOf(shard));
            Assert.Equal(RegionOf(A), removed.HomeOf(shard));
        }
        // A survivor's shard never moves in the failover: nothing on A is misplaced at any step.
        var onA = new Dictionary<string, IImmutableList<string>> { [RegionOf(A)] = AllShards.ToImmutableList() };
        Assert.Empty(removed.Misplaced(onA, NoneMoving, 1_000));
        Assert.Empty(downed.Misplaced(onA.Where(r => r.Key == RegionOf(A)).ToDictionary(r => r.Key, r => (IImmutableList<string>)ofA.SelectMany(ShardsOf).ToImmutableList()), NoneMoving, 1_000));
    }

    [Fact]
    public void Should_move_the_shards_of_a_joining_members_partitions_a_bounded_number_per_round()
    {
        // A ran alone and holds every shard; B joins and reads its share of the partitions.
        (UniqueAddress, MemberStatus)[] both = [(A, MemberStatus.Up), (B, MemberStatus.Up)];
        var placement = Placement(both, A, B);
        var current = new Dictionary<string, IImmutableList<string>>
        {
            [RegionOf(A)] = AllShards.Append("98").ToImmutableList(),
            [RegionOf(B)] = ImmutableList<string>.Empty,
        };
        var ofB = TelemetryPartitions.Owned(B, both.ToDictionary(m => m.Item1, m => m.Item2), []).SelectMany(ShardsOf).ToHashSet();

        var all = placement.Misplaced(current, NoneMoving, 1_000);
        Assert.Equal(ofB, all.ToHashSet());
        // Bounded, a partition at a time; shards already moving are not asked again.
        var round = placement.Misplaced(current, NoneMoving, MeterShardAllocation.MaxMovesPerRound);
        Assert.Equal(Math.Min(ofB.Count, MeterShardAllocation.MaxMovesPerRound), round.Count);
        Assert.Equal(all.Take(round.Count), round);
        var next = placement.Misplaced(current, round.ToImmutableHashSet(), MeterShardAllocation.MaxMovesPerRound);
        Assert.Empty(next.Intersect(round));
        Assert.Equal(ofB, round.Concat(next).Concat(placement.Misplaced(current, round.Concat(next).ToImmutableHashSet(), 1_000)).ToHashSet());
    }

    [Fact]
    public void Should_not_move_a_shard_off_a_region_that_is_not_live()
    {
        // C is down: its region cannot hand off; the coordinator reallocates its shards once the region is gone.
        (UniqueAddress, MemberStatus)[] view = [(A, MemberStatus.Up), (B, MemberStatus.Up), (C, MemberStatus.Down)];
        var placement = Placement(view, A, B);
        var current = new Dictionary<string, IImmutableList<string>> { [RegionOf(C)] = AllShards.ToImmutableList() };
        Assert.Empty(placement.Misplaced(current, NoneMoving, 1_000));
    }
}
