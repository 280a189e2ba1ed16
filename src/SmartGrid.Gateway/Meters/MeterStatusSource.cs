using Akka.Actor;
using Akka.Hosting;
using SmartGrid.Actors.Metering;

namespace SmartGrid.Gateway.Meters;

/// <summary>Where <c>GET /meters/{id}/status</c> gets a meter's live state: the meter entity, through the shard region.</summary>
public interface IMeterStatusSource
{
    /// <exception cref="AskTimeoutException">The meter did not answer within <paramref name="timeout"/>.</exception>
    Task<MeterStatus> GetStatusAsync(string meterId, TimeSpan timeout, CancellationToken ct);
}

/// <summary>Asks an actor (the meter shard region or its proxy) with <see cref="GetMeterStatus"/>.</summary>
public sealed class ActorMeterStatusSource(IActorRef meters) : IMeterStatusSource
{
    public Task<MeterStatus> GetStatusAsync(string meterId, TimeSpan timeout, CancellationToken ct) =>
        meters.Ask<MeterStatus>(new GetMeterStatus(meterId), timeout, ct);
}

/// <summary>The node's source: the meter shard region (or proxy) registered with Akka.Hosting.</summary>
public sealed class ShardRegionMeterStatusSource(IRequiredActor<MeterBucket> meters) : IMeterStatusSource
{
    public async Task<MeterStatus> GetStatusAsync(string meterId, TimeSpan timeout, CancellationToken ct)
    {
        var region = await meters.GetAsync(ct);
        return await region.Ask<MeterStatus>(new GetMeterStatus(meterId), timeout, ct);
    }
}
