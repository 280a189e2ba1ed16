namespace SmartGrid.Kafka.Tests;

public sealed class PartitionOwnershipSpecs
{
    private const int Partitions = 6;

    private static readonly string[] Fleet = Enumerable.Range(1, 7)
        .Select(n => $"akka.tcp://smartgrid@10.0.0.{n}:4053#{1_000_003 * n}").ToArray();

    private static Dictionary<int, string> Owners(IReadOnlyCollection<string> members) =>
        PartitionOwnership.Owners(Partitions, members).Select((owner, p) => (owner, p)).ToDictionary(x => x.p, x => x.owner!);

    /// <summary>Many clusters of the given size, named as Akka names members (address and incarnation).</summary>
    private static IEnumerable<List<string>> Clusters(int size, int count = 300) =>
        Enumerable.Range(0, count).Select(n => Enumerable.Range(0, size).Select(i => $"akka.tcp://smartgrid@node{i}:4053#{n * 7919 + i}").ToList());

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
        Assert.All(PartitionOwnership.Owners(Partitions, []), Assert.Null);
    }

    [Theory]
    [MemberData(nameof(ClusterSizes))]
    public void Should_give_every_member_an_even_share(int size)
    {
        // Six partitions over two members: three each; over four: one or two each; over seven: one member reads none.
        foreach (var members in Clusters(size))
        {
            var shares = members.Select(m => PartitionOwnership.OwnedBy(m, Partitions, members).Count).ToList();
            Assert.All(shares, s => Assert.InRange(s, Partitions / size, (Partitions + size - 1) / size));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Should_move_the_removed_members_partitions_and_few_of_the_survivors(int survivors)
    {
        int kept = 0, survivorsPartitions = 0;
        foreach (var members in Clusters(survivors + 1))
        {
            var before = Owners(members);
            foreach (var removed in members)
            {
                var after = Owners(members.Where(m => m != removed).ToList());
                foreach (var p in Enumerable.Range(0, Partitions))
                {
                    Assert.NotEqual(removed, after[p]);
                    if (before[p] == removed) continue;
                    survivorsPartitions++;
                    if (after[p] == before[p]) kept++;
                }
            }
        }
        // Balanced shares cost some stickiness (PartitionOwnership): 82-92 % stay put, where Kafka's eager
        // assignment revokes every partition.
        Assert.True(kept > survivorsPartitions * 0.8, $"survivors kept {kept} of their {survivorsPartitions} partitions");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Should_move_few_partitions_between_the_others_when_a_member_joins(int size)
    {
        int kept = 0, othersPartitions = 0;
        foreach (var members in Clusters(size + 1))
        {
            var newcomer = members[^1];
            var before = Owners(members[..^1]);
            var after = Owners(members);
            Assert.Contains(newcomer, after.Values);
            foreach (var p in Enumerable.Range(0, Partitions).Where(p => after[p] != newcomer))
            {
                othersPartitions++;
                if (after[p] == before[p]) kept++;
            }
        }
        Assert.True(kept > othersPartitions * 0.8, $"the members kept {kept} of the {othersPartitions} partitions the newcomer did not take");
    }

    [Fact]
    public void Should_give_a_lone_member_every_partition()
    {
        // A restarted single node is the only member: it reads everything as soon as it is up.
        Assert.Equal(Enumerable.Range(0, Partitions), PartitionOwnership.OwnedBy(Fleet[0], Partitions, [Fleet[0]]));
    }
}
