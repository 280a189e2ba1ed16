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

    private RestartingConsumer(Func<Source<Done, IControl>> create, string name, ILoggingAdapter log, IMaterializer materializer)
    {
        var restarts = 0;
        _killSwitch = RestartSource.OnFailuresWithBackoff(() =>
                {
                    if (restarts++ > 0)
                    {
                        log.Warning("Kafka consumer {0}: restarting after a failure (restart {1})", name, restarts - 1);
                        PipelineMetrics.ConsumerRestarts.Add(1, new KeyValuePair<string, object?>("group", name));
                    }
                    return create().MapMaterializedValue(control =>
                    {
                        _current = control;
                        return NotUsed.Instance;
                    });
                },
                StreamRestarts.Backoff)
            .ViaMaterialized(KillSwitches.Single<Done>(), Keep.Right)
            .To(Sink.Ignore<Done>())
            .Run(materializer);
    }

    public static RestartingConsumer Start(string name, Func<Source<Done, IControl>> create, ILoggingAdapter log, IMaterializer materializer) =>
        new(create, name, log, materializer);

    /// <summary>Stops fetching, lets the consumer commit what it emitted and leave its group.</summary>
    public async Task ShutdownAsync()
    {
        _killSwitch.Shutdown();
        if (_current is { } control) await control.Shutdown();
    }
}
