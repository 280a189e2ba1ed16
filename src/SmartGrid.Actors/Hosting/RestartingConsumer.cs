using Akka;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// Keeps a Kafka consumer stream alive: when it fails (a meter ask timed out while the journal
/// was unavailable, a broker error) it is rebuilt with back-off and rejoins its group, reading
/// again from the committed offsets; the meters' de-duplication makes the re-read harmless.
/// Without this, one failure would leave the node up but consuming nothing.
/// </summary>
public sealed class RestartingConsumer
{
    private readonly UniqueKillSwitch _killSwitch;
    private volatile IControl? _current;
    private volatile SharedKillSwitch? _pass;

    private RestartingConsumer(Func<Source<Done, IControl>> create, string name, ILoggingAdapter log, IMaterializer materializer)
    {
        var restarts = 0;
        _killSwitch = RestartSource.OnFailuresWithBackoff(() =>
                {
                    if (restarts++ > 0) log.Warning("Kafka consumer {0}: restarting after a failure (restart {1})", name, restarts - 1);
                    var pass = KillSwitches.Shared($"{name}-pass-{restarts}");
                    _pass = pass;
                    return create().Via(pass.Flow<Done>()).MapMaterializedValue(control =>
                    {
                        _current = control;
                        return NotUsed.Instance;
                    });
                },
                RestartSettings.Create(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2).WithMaxRestarts(int.MaxValue, TimeSpan.FromMinutes(5)))
            .ViaMaterialized(KillSwitches.Single<Done>(), Keep.Right)
            .To(Sink.Ignore<Done>())
            .Run(materializer);
    }

    public static RestartingConsumer Start(string name, Func<Source<Done, IControl>> create, ILoggingAdapter log, IMaterializer materializer) =>
        new(create, name, log, materializer);

    /// <summary>
    /// Fails the running pass at once, so it is rebuilt and reads again from the committed offsets. For work
    /// that is known to be lost (a node holding meters died): waiting for its asks to time out would hold
    /// back every partition, the node's own included.
    /// </summary>
    public void Restart(string reason) => _pass?.Abort(new RestartRequestedException(reason));

    private sealed class RestartRequestedException(string reason) : Exception(reason);

    /// <summary>Stops fetching, lets the consumer commit what it emitted and leave its group.</summary>
    public async Task ShutdownAsync()
    {
        _killSwitch.Shutdown();
        if (_current is { } control) await control.Shutdown();
    }
}
