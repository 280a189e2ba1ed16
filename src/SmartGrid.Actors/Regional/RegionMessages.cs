using SmartGrid.Domain.Metering;

namespace SmartGrid.Actors.Regional;

public interface IRegionMessage
{
    string Region { get; }
}

/// <summary>Published meter windows of one region, from the window projection. Answered with <see cref="MeterWindowsRecorded"/> once durable.</summary>
public sealed record RecordMeterWindows(string Region, IReadOnlyList<EmittedWindow> Windows) : IRegionMessage;

public sealed record MeterWindowsRecorded(string Region, int Fresh);

public sealed class RegionMessageExtractor() : Akka.Cluster.Sharding.HashCodeMessageExtractor(ShardCount)
{
    public const int ShardCount = 10;
    public override string? EntityId(object message) => (message as IRegionMessage)?.Region;
}
