using Akka.Actor;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// A processor's first telemetry checkpoint, which the projections wait for before they catch up. After a crash their
/// backlog grows with the fleet (the windows the dead node's meters persisted and nobody published: 630,000 at 300,000
/// meters, each sent to its region, Kafka and the aggregate tables), and run beside the restart's first groups it took the
/// CPU, the database and the GC those meters needed to recover and persist: the first commit came later the larger the
/// fleet (README "Restart at scale"). A node whose partitions bring no readings never checkpoints, so the wait ends
/// <see cref="MaxWait"/> after the node first asked (the projections' singletons are set up as the node starts) anyway; a
/// singleton that moves to a node running for longer does not wait.
/// </summary>
public sealed class FirstCheckpoint : IExtension
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _ready;

    private FirstCheckpoint() => _ready = Task.WhenAny(_reached.Task, Task.Delay(MaxWait));

    public static FirstCheckpoint Get(ActorSystem system) => system.WithExtension<FirstCheckpoint, Provider>();

    /// <summary>A partition run's first group is durable in its meters.</summary>
    public void Reached() => _reached.TrySetResult();

    /// <summary>Completes at the node's first telemetry checkpoint, or <see cref="MaxWait"/> after this extension was first asked for.</summary>
    public Task WaitAsync() => _ready;

    private sealed class Provider : ExtensionIdProvider<FirstCheckpoint>
    {
        public override FirstCheckpoint CreateExtension(ExtendedActorSystem system) => new();
    }
}
