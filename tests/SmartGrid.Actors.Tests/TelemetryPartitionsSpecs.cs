using Akka.Actor;
using Akka.Cluster;
using SmartGrid.Actors.Hosting;

namespace SmartGrid.Actors.Tests;

/// <summary>Which raw_readings partitions a processor reads from its view of the cluster (no actor system needed).</summary>
public sealed class TelemetryPartitionsSpecs
{
    private static readonly UniqueAddress A = Member(1), B = Member(2), C = Member(3);
    private static readonly int[] Every = Enumerable.Range(0, TelemetryPartitions.Count).ToArray();

    private static UniqueAddress Member(int n) => new(new Address("akka.tcp", "smartgrid", "127.0.0.1", 4000 + n), 7919 * n);

    private static IReadOnlyList<int> Owned(UniqueAddress self, params (UniqueAddress Member, MemberStatus Status)[] view) =>
        Owned(self, [], view);

    private static IReadOnlyList<int> Owned(UniqueAddress self, UniqueAddress[] handingOver, params (UniqueAddress Member, MemberStatus Status)[] view) =>
        TelemetryPartitions.Owned(self, view.ToDictionary(m => m.Member, m => m.Status), handingOver);

    [Fact]
    public void Should_read_every_partition_as_the_only_Up_processor()
    {
        // A node restarted after kill -9: its new incarnation is alone, and reads everything once it is Up.
        Assert.Equal(Every, Owned(A, (A, MemberStatus.Up)));
    }

    [Fact]
    public void Should_read_nothing_while_this_node_is_not_Up()
    {
        foreach (var status in new[] { MemberStatus.Joining, MemberStatus.WeaklyUp, MemberStatus.Leaving, MemberStatus.Exiting, MemberStatus.Down })
            Assert.Empty(Owned(A, (A, status), (B, MemberStatus.Up)));
        // Not in its own view at all (before the first gossip, or removed).
        Assert.Empty(Owned(A, (B, MemberStatus.Up)));
    }

    [Fact]
    public void Should_split_the_partitions_between_the_Up_processors_with_one_reader_each()
    {
        (UniqueAddress, MemberStatus)[] view = [(A, MemberStatus.Up), (B, MemberStatus.Up), (C, MemberStatus.Up)];
        var shares = new[] { A, B, C }.Select(m => Owned(m, view)).ToList();
        Assert.Equal(Every, shares.SelectMany(s => s).Order());
        // A joining member reads nothing yet, and the others read as if it were not there.
        Assert.Empty(Owned(C, (A, MemberStatus.Up), (B, MemberStatus.Up), (C, MemberStatus.Joining)));
        Assert.Equal(Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Up)), Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Up), (C, MemberStatus.Joining)));
    }

    [Fact]
    public void Should_leave_a_downed_members_partitions_unread_until_its_shards_have_moved()
    {
        var twoUp = Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Up));
        Assert.NotEqual(Every, twoUp); // B reads some of them while Up
        // Unreachable, then downed: B may only be paused, and its meters do not answer until its shards move.
        Assert.Equal(twoUp, Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Down)));
        // Removed, its shards still in the coordinator's view.
        Assert.Equal(twoUp, Owned(A, [B], (A, MemberStatus.Up)));
        // Handed over: A reads everything.
        Assert.Equal(Every, Owned(A, (A, MemberStatus.Up)));
    }

    [Fact]
    public void Should_give_a_leaving_members_partitions_to_the_others_at_once()
    {
        // A member that leaves stops reading when it is Leaving (after draining, when a signal stopped it): the survivors read its partitions at once.
        Assert.NotEqual(Every, Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Up)));
        Assert.Equal(Every, Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Leaving)));
        Assert.Equal(Every, Owned(A, (A, MemberStatus.Up), (B, MemberStatus.Exiting)));
    }
}
