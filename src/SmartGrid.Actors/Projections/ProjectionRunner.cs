using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Projections;

/// <summary>
/// Runs one projection of tagged journal events: reads from the offset it stored, hands each
/// batch to <see cref="ProjectionHandler"/>, which must store the batch's last offset together
/// with (or after) its effect. A failure restarts the stream with back-off from the stored
/// offset, so every batch takes effect at least once and, the handlers being idempotent,
/// exactly once in effect. Hosted as a cluster singleton: one reader per projection.
/// </summary>
public sealed class ProjectionRunner : ReceiveActor
{
    public delegate Task ProjectionHandler(IReadOnlyList<EventEnvelope> batch, ProjectionCheckpoint checkpoint, CancellationToken ct);

    public sealed record Settings(string ProjectionId, string Tag, int MaxBatch, TimeSpan MaxBatchInterval);

    private readonly CancellationTokenSource _stop = new();
    private UniqueKillSwitch? _killSwitch;

    public ProjectionRunner(Settings settings, ProjectionOffsets offsets, ProjectionHandler handler)
    {
        var log = Context.GetLogger();
        var journal = PersistenceQuery.Get(Context.System).ReadJournalFor<SqlReadJournal>("akka.persistence.query.journal.sql");
        var materializer = Context.Materializer();

        var source = RestartSource.OnFailuresWithBackoff(() =>
                Source.FromTask(offsets.LoadAsync(settings.ProjectionId, _stop.Token))
                    .ConcatMany(from =>
                    {
                        log.Info("projection {0}: reading tag {1} after offset {2}", settings.ProjectionId, settings.Tag, from);
                        return journal.EventsByTag(settings.Tag, Offset.Sequence(from));
                    })
                    .GroupedWithin(settings.MaxBatch, settings.MaxBatchInterval)
                    .SelectAsync(1, async batch =>
                    {
                        var list = batch.ToList();
                        var last = ((Sequence)list[^1].Offset).Value;
                        await handler(list, new ProjectionCheckpoint(settings.ProjectionId, last), _stop.Token);
                        return NotUsed.Instance;
                    }),
            RestartSettings.Create(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10), 0.2).WithMaxRestarts(int.MaxValue, TimeSpan.FromMinutes(1)));

        _killSwitch = source
            .ViaMaterialized(KillSwitches.Single<NotUsed>(), Keep.Right)
            .To(Sink.Ignore<NotUsed>())
            .Run(materializer);
    }

    protected override void PostStop()
    {
        _killSwitch?.Shutdown();
        _stop.Cancel();
        _stop.Dispose();
    }
}
