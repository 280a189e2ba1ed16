using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SmartGrid.Kafka;

/// <summary>
/// Who reads each partition of a topic among a set of members: rendezvous (highest random weight) hashing with
/// balanced shares. Every (partition, member) pair has a weight from a hash of both; pairs are taken in descending
/// weight, first until every member has <c>partitions / members</c> (rounded down), then until the remainder is placed
/// one per member. Every member that sees the same set computes the same owners without talking to the others, and
/// every member reads the rounded-down or rounded-up share.
/// <para>Why not plain rendezvous hashing: it moves nothing but the removed member's partitions, but with six partitions
/// it leaves a member of a two-member cluster with none about once in 32 memberships, one of three members about
/// once in four, and most five-member clusters with an idle consumer. Balanced shares cost some stickiness: a removal
/// also moves about 8-18 % of the survivors' partitions between survivors (measured over random clusters of 2-5; a
/// moved partition pauses for its old reader's stop and the new one's start from the committed offset, nothing is
/// read twice or lost), where Kafka's eager assignment moves all of them.</para>
/// </summary>
public static class PartitionOwnership
{
    /// <summary>The owner of each of the partitions <c>0..partitions-1</c>; all null when there is no member.</summary>
    public static string?[] Owners(int partitions, IReadOnlyCollection<string> members)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partitions);
        var owners = new string?[partitions];
        var distinct = members.Distinct().ToList();
        if (distinct.Count == 0) return owners;

        // Highest weight first; equal weights (practically never) fall to the lower partition, then the lower name.
        var pairs = (from p in Enumerable.Range(0, partitions) from m in distinct select (Weight: Weight(p, m), Partition: p, Member: m))
            .OrderByDescending(x => x.Weight).ThenBy(x => x.Partition).ThenBy(x => x.Member, StringComparer.Ordinal).ToList();
        var shares = distinct.ToDictionary(m => m, _ => 0, StringComparer.Ordinal);
        var floor = partitions / distinct.Count;
        foreach (var cap in new[] { floor, floor + 1 })
        {
            foreach (var (_, partition, member) in pairs)
            {
                if (owners[partition] is not null || shares[member] >= cap) continue;
                owners[partition] = member;
                shares[member]++;
            }
        }
        return owners;
    }

    /// <summary>The partitions among <c>0..partitions-1</c> that <paramref name="self"/> owns among <paramref name="members"/>.</summary>
    public static IReadOnlyList<int> OwnedBy(string self, int partitions, IReadOnlyCollection<string> members)
    {
        var owners = Owners(partitions, members);
        return Enumerable.Range(0, partitions).Where(p => owners[p] == self).ToList();
    }

    // A cryptographic hash rather than string.GetHashCode, which differs from process to process: every node must
    // weigh alike. Six partitions and a few members cost microseconds, once per membership change.
    private static ulong Weight(int partition, string member)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{partition}/{member}"), digest);
        return BinaryPrimitives.ReadUInt64BigEndian(digest);
    }
}
