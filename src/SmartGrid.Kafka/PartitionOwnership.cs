using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SmartGrid.Kafka;

/// <summary>
/// Who reads each partition of a topic among a set of members, by rendezvous (highest random weight) hashing: a
/// partition goes to the member whose hash with it is highest. Every member that sees the same set computes the
/// same owners, without talking to the others. Removing a member moves only its own partitions (each to the member
/// that ranked second for it), and adding one moves only the partitions it now ranks first for: the others keep
/// reading theirs through any change, which is what cooperative rebalancing promises, with no rebalance at all.
/// </summary>
public static class PartitionOwnership
{
    /// <summary>The member that reads <paramref name="partition"/>, or null when there is no member.</summary>
    public static string? Owner(int partition, IEnumerable<string> members)
    {
        string? best = null;
        ulong bestWeight = 0;
        foreach (var member in members)
        {
            var weight = Weight(partition, member);
            // Equal weights (practically never) fall to the lower name, so every member still agrees.
            if (best is null || weight > bestWeight || (weight == bestWeight && string.CompareOrdinal(member, best) < 0))
            {
                best = member;
                bestWeight = weight;
            }
        }
        return best;
    }

    /// <summary>The partitions among <c>0..partitions-1</c> that <paramref name="self"/> owns among <paramref name="members"/>.</summary>
    public static IReadOnlyList<int> OwnedBy(string self, int partitions, IReadOnlyCollection<string> members) =>
        Enumerable.Range(0, partitions).Where(p => Owner(p, members) == self).ToList();

    // A cryptographic hash rather than string.GetHashCode, which differs from process to process: every node must
    // weigh alike. Six partitions and a few members cost microseconds, once per membership change.
    private static ulong Weight(int partition, string member)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{partition}/{member}"), digest);
        return BinaryPrimitives.ReadUInt64BigEndian(digest);
    }
}
