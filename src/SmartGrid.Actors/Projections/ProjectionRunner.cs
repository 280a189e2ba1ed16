using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using SmartGrid.Storage;

using SmartGrid.Actors.Hosting;

namespace SmartGrid.Actors.Projections;

/// <summary>
/// Runs one projection of tagged journal events: reads from the offset it stored, hands each
/// batch to <see cref="ProjectionHandler"/>, which must store the batch's last offset together
/// with (or after) its effect. A failure restarts the stream with back-off from the stored
/// offset, so every batch takes effect at least once and, the handlers being idempotent,
/// exactly once in effect. Hosted as a cluster singleton: one reader per projection.
/// </summary>
public sealed class ProjectionRunner : ReceiveActor, IDisposable
{
    public delegate Task ProjectionHandler(IReadOnlyList<EventEnvelope> batch, ProjectionCheckpoint checkpoint, CancellationToken ct);

    /// <param name="StartAfter">What the projection waits for before it first reads (see <see cref="FirstCheckpoint"/>); null: nothing.</param>
    public sealed record Settings(string ProjectionId, string Tag, int MaxBatch, TimeSpan MaxBatchInterval, Func<Task>? StartAfter = null);

    private const string ReadJournalId = "akka.persistence.query.journal.sql";

    private readonly CancellationTokenSource _stop = new();
    private UniqueKillSwitch? _killSwitch;

    public ProjectionRunner(Settings settings, ProjectionOffsets offsets, ProjectionHandler handler)
    {
        var log = Context.GetLogger();
        var system = Context.System;
        var materializer = Context.Materializer();

        // The read journal is created inside the restartable part: its constructor asks the
        // journal and can time out on a busy node, which must mean "try again", not a dead projection.
        async Task<(SqlReadJournal Journal, long From)> StartAsync()
        {
            if (settings.StartAfter is { } startAfter) await startAfter();
            var journal = await Task.Run(() => PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(ReadJournalId));
            return (journal, await offsets.LoadAsync(settings.ProjectionId, _stop.Token));
        }

        var source = RestartSource.OnFailuresWithBackoff(() =>
                Source.FromTask(StartAsync())
                    .ConcatMany(start =>
                    {
                        log.Info("projection {0}: reading tag {1} after offset {2}", settings.ProjectionId, settings.Tag, start.From);
                        return start.Journal.EventsByTag(settings.Tag, Offset.Sequence(start.From));
                    })
                    .GroupedWithin(settings.MaxBatch, settings.MaxBatchInterval)
                    .SelectAsync(1, async batch =>
                    {
                        var list = batch.ToList();
                        var last = ((Sequence)list[^1].Offset).Value;
                        await handler(list, new ProjectionCheckpoint(settings.ProjectionId, last), _stop.Token);
                        return NotUsed.Instance;
                    }),
            StreamRestarts.Backoff);

        _killSwitch = source
            .ViaMaterialized(KillSwitches.Single<NotUsed>(), Keep.Right)
            .To(Sink.Ignore<NotUsed>())
            .Run(materializer);
    }

    protected override void PostStop()
    {
        _killSwitch?.Shutdown();
        _stop.Cancel();
    }

    // Akka disposes a stopped actor that is IDisposable, after PostStop.
    public void Dispose() => _stop.Dispose();
}
