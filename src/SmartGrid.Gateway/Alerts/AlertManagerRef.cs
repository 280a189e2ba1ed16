using Akka.Actor;
using Akka.Hosting;
using SmartGrid.Contracts;

namespace SmartGrid.Gateway.Alerts;

/// <summary>Where the gateway sends alert commands: the AlertManager singleton (through its proxy).</summary>
public interface IAlertManagerRef
{
    Task<IActorRef> GetAsync(CancellationToken ct);
}

/// <summary>The node's: the singleton proxy registered by GridServicesHosting.</summary>
public sealed class SingletonAlertManagerRef(IRequiredActor<AlertManagerKey> manager) : IAlertManagerRef
{
    public Task<IActorRef> GetAsync(CancellationToken ct) => manager.GetAsync(ct);
}

/// <summary>A given actor (hosts without Akka.Hosting, such as tests).</summary>
public sealed class FixedAlertManagerRef(IActorRef manager) : IAlertManagerRef
{
    public Task<IActorRef> GetAsync(CancellationToken ct) => Task.FromResult(manager);
}
