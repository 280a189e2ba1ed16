namespace SmartGrid.Kafka.Tests;

public sealed class PartitionOwnershipSpecs
{
    private const int Partitions = 6;

    private static readonly string[] Fleet = Enumerable.Range(1, 7)
        .Select(n => $"akka.tcp://smartgrid@10.0.0.{n}:4053#{1_000_003 * n}").ToArray();

    private static Dictionary<int, string> Owners(IReadOnlyCollection<string> members) =>
        Enumerable.Range(0, Partitions).ToDictionary(p => p, p => PartitionOwnership.Owner(p, members)!);

    /// <summary>Every way of taking 1..7 members of the fleet, so the claims hold for any cluster, not a lucky one.</summary>
    public static TheoryData<int> ClusterSizes() => [1, 2, 3, 4, 5, 6, 7];

    [Theory]
    [MemberData(nameof(ClusterSizes))]
    public void Should_give_every_partition_exactly_one_owner_that_every_member_computes_alike(int size)
    {
        var members = Fleet.Take(size).ToList();
        var owned = members.ToDictionary(m => m, m => PartitionOwnership.OwnedBy(m, Partitions, members));

        // Each member computes its own share; together the shares cover every partition once.
        var all = owned.Values.SelectMany(p => p).Order().ToList();
        Assert.Equal(Enumerable.Range(0, Partitions), all);
        // The order in which a node lists the members (its own view) does not change the answer.
        Assert.Equal(Owners(members), Owners(members.AsEnumerable().Reverse().ToList()));
        Assert.Null(PartitionOwnership.Owner(0, []));
    }

    [Theory]
    [MemberData(nameof(ClusterSizes))]
    public void Should_move_only_the_removed_members_partitions_when_a_member_is_removed(int size)
    {
        var members = Fleet.Take(size + 1).ToList();
        var before = Owners(members);
        foreach (var removed in members)
        {
            var after = Owners(members.Where(m => m != removed).ToList());
            foreach (var p in Enumerable.Range(0, Partitions))
            {
                if (before[p] == removed)
                    Assert.NotEqual(removed, after[p]);
                else
                    Assert.Equal(before[p], after[p]); // a survivor keeps what it read
            }
        }
    }

    [Theory]
    [MemberData(nameof(ClusterSizes))]
    public void Should_move_only_partitions_to_the_newcomer_when_a_member_joins(int size)
    {
        var members = Fleet.Take(size).ToList();
        var newcomer = Fleet[size % Fleet.Length] + "-new";
        var before = Owners(members);
        var after = Owners([.. members, newcomer]);
        foreach (var p in Enumerable.Range(0, Partitions))
        {
            if (after[p] != newcomer)
                Assert.Equal(before[p], after[p]);
        }
    }

    [Fact]
    public void Should_give_a_lone_member_every_partition()
    {
        // A restarted single node is the only member: it reads everything as soon as it is up.
        Assert.Equal(Enumerable.Range(0, Partitions), PartitionOwnership.OwnedBy(Fleet[0], Partitions, [Fleet[0]]));
    }

    [Fact]
    public void Should_spread_the_partitions_over_the_members()
    {
        // Over many three-member clusters, most members read one to three of the six partitions (about 81 % for a
        // uniform hash), and few read all or none: the hash spreads the partitions rather than piling them up.
        var shares = new List<int>();
        for (var n = 0; n < 200; n++)
        {
            var members = Enumerable.Range(0, 3).Select(i => $"akka.tcp://smartgrid@node{i}:4053#{n * 7919 + i}").ToList();
            shares.AddRange(members.Select(m => PartitionOwnership.OwnedBy(m, Partitions, members).Count));
        }
        var balanced = shares.Count(s => s is >= 1 and <= 3);
        Assert.True(balanced > shares.Count * 0.7, $"{balanced} of {shares.Count} members read one to three partitions");
    }
}
