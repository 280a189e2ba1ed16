using Akka.Persistence.Query;
using SmartGrid.Actors.Hosting;
using SmartGrid.Contracts;
using SmartGrid.Domain.Regional;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Projections;

/// <summary>
/// Takes published regional windows (tag <see cref="Regional.RegionActor.RegionalTag"/>) to Kafka
/// regional_aggregates (1-minute loads feed overload detection, 15-minute ones tariffs; the
/// message says which) and to regional_aggregates_1m / _15m, UPSERTed with this projection's offset.
/// </summary>
public sealed class RegionalProjection(KafkaJson kafka, RegionalAggregateStore store)
{
    public const string ProjectionId = "regional-windows";

    public async Task HandleAsync(IReadOnlyList<EventEnvelope> batch, ProjectionCheckpoint checkpoint, CancellationToken ct)
    {
        var windows = batch.Select(e => e.Event).OfType<RegionalWindowsEmitted>().SelectMany(e => e.Windows)
            .GroupBy(w => (w.Aggregate.Region, w.Aggregate.Size, w.Aggregate.WindowStart))
            .Select(g => g.MaxBy(w => w.Revision)!)
            .ToList();
        await kafka.PublishAsync(Topics.RegionalAggregates, windows.Select(w => (w.Aggregate.Region, RegionalAggregateMessage.From(w.Aggregate, w.Revision))), ct);
        await store.UpsertAsync(windows.Select(w => w.Aggregate).ToList(), checkpoint, ct);
        PipelineMetrics.RegionalWindowsPublished.Add(windows.Count);
    }
}
