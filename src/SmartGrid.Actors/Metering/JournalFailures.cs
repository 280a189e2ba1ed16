using Akka.Actor;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Meters that could not write or read their journal say so here, and the telemetry stream stops
/// waiting for them. A meter whose write fails stops, and one whose recovery fails stops with the
/// readings it was sent: nobody answers those asks, and without this signal the stream would wait
/// out the whole ask timeout (a minute) before it failed and replayed, long after the database
/// came back. Cancelling every ask in flight costs only a replay the meters de-duplicate.
/// </summary>
public sealed class JournalFailures : IExtension, IDisposable
{
    private CancellationTokenSource _current = new();

    /// <summary>Cancelled at the next failure reported after it was read.</summary>
    public CancellationToken Token => Volatile.Read(ref _current).Token;

    public void Report() => Interlocked.Exchange(ref _current, new CancellationTokenSource()).Cancel();

    public void Dispose() => Volatile.Read(ref _current).Dispose();

    public static JournalFailures For(ActorSystem system) => system.WithExtension<JournalFailures, Provider>();

    private sealed class Provider : ExtensionIdProvider<JournalFailures>
    {
        public override JournalFailures CreateExtension(ExtendedActorSystem system)
        {
            var failures = new JournalFailures();
            system.RegisterOnTermination(failures.Dispose);
            return failures;
        }
    }
}
