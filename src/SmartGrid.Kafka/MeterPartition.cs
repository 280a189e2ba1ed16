using System.Text;

namespace SmartGrid.Kafka;

/// <summary>
/// The raw_readings partition of a meter: the partition a producer pinned to librdkafka's <c>murmur2_random</c>
/// partitioner (<see cref="ProducerSettings{TKey,TValue}.Partitioner"/>), or the Java client's default one, puts a
/// record keyed by the meter id in. The meters' shards follow it (MeterMessageExtractor), so a meter lives on the node
/// that reads its partition.
/// </summary>
public static class MeterPartition
{
    /// <summary><c>murmur2(utf8(meterId)) &amp; 0x7fffffff % partitions</c>, as the Java client's and librdkafka's murmur2 partitioners compute it.</summary>
    public static int Of(string meterId, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        return PositiveHash(meterId) % partitions;
    }

    /// <summary>The key's murmur2 hash with the sign bit cleared: what the partitioners take the partition from.</summary>
    public static int PositiveHash(string meterId)
    {
        ArgumentNullException.ThrowIfNull(meterId);
        var length = Encoding.UTF8.GetByteCount(meterId);
        // Meter ids are short; a long key (never a meter's) goes to the heap.
        Span<byte> key = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(meterId, key);
        return (int)(Murmur2(key) & 0x7fffffff);
    }

    /// <summary>
    /// MurmurHash2, 32 bits, with Kafka's seed (0x9747b28c) and its tail handling: the 4-byte blocks read little-endian,
    /// the last 1-3 bytes folded in before the final multiply. Unsigned arithmetic here is Java's wrapping int arithmetic
    /// with its unsigned shifts (<c>&gt;&gt;&gt;</c>).
    /// </summary>
    public static uint Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28c ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        var tail = data[(blocks * 4)..];
        switch (tail.Length)
        {
            case 3:
                h ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                h ^= tail[0];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}
