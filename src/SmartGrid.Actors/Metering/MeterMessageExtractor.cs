using Akka.Cluster.Sharding;
using SmartGrid.Actors.Hosting;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// A meter's shard is (its raw_readings partition, a bucket): shard id <c>partition * BucketsPerPartition + bucket</c>,
/// both from the meter id's murmur2 hash (<see cref="MeterPartition"/>), so every shard holds meters of one partition
/// only and <see cref="MeterShardAllocation"/> can place it on the node that reads that partition. The shard ids of the
/// former placement (a hash of the meter id over 100 shards) left in the coordinator's journal are harmless: a meter's
/// persistence id does not hold its shard, and the coordinator moves such a shard like any other.
/// </summary>
public sealed class MeterMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    /// <summary>Shards per partition: enough that a partition's meters spread over a few shards each, about today's count in all.</summary>
    public const int BucketsPerPartition = 16;

    /// <summary>Fixed for the life of the journal with the topic's partition count: 96 with six partitions.</summary>
    public static readonly int ShardCount = TelemetryPartitions.Count * BucketsPerPartition;

    /// <summary>A shard holds one entity, its bucket (<see cref="MeterBucket"/>), which hosts the shard's meters: the entity id is the shard id.</summary>
    public override string? EntityId(object message) => message switch
    {
        IBucketMessage bucket => bucket.BucketId,
        IMeterMessage meter => ShardOf(meter.MeterId),
        _ => null,
    };

    /// <summary>Every path to a shard id comes here: a message's, <see cref="ShardRegion.StartEntity"/>'s (HashCodeMessageExtractor routes both by entity id).</summary>
    public override string ShardId(string entityId, object? messageHint = null) => entityId;

    public static string ShardOf(string meterId)
    {
        var hash = MeterPartition.PositiveHash(meterId);
        // The bucket from the hash's quotient, not its remainder, so buckets do not repeat the partition's pattern.
        return ShardOf(hash % TelemetryPartitions.Count, hash / TelemetryPartitions.Count % BucketsPerPartition);
    }

    public static string ShardOf(int partition, int bucket) => ShardIds[partition * BucketsPerPartition + bucket];

    /// <summary>The ids made once: the telemetry stream names the shard of every meter it asks.</summary>
    private static readonly string[] ShardIds =
        Enumerable.Range(0, ShardCount).Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The raw_readings partition whose meters a shard holds; null for an id this placement never makes (the former one's 96-99).</summary>
    public static int? PartitionOf(string shardId) =>
        int.TryParse(shardId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id < ShardCount
            ? id / BucketsPerPartition
            : null;
}
