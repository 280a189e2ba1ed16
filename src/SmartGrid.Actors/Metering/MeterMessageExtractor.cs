using Akka.Cluster.Sharding;

namespace SmartGrid.Actors.Metering;

public sealed class MeterMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    /// <summary>Ten shards per processor node of a large cluster; fixed for the life of the journal.</summary>
    public const int ShardCount = 100;

    public override string? EntityId(object message) => (message as IMeterMessage)?.MeterId;
}
