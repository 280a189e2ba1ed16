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
/// message says which) and to regional_aggregates_1m / _15m, and the transformers' and feeders'
/// windows published with them to grid_node_aggregates and grid_node_aggregates_1m / _15m, all
/// UPSERTed with this projection's offset (a replayed batch republishes the same revisions).
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
        var nodes = windows.SelectMany(w => (w.Nodes ?? []).Select(n => (Node: n, w.Revision))).ToList();
        await Task.WhenAll(
            kafka.PublishAsync(Topics.RegionalAggregates, windows.Select(w => (w.Aggregate.Region, RegionalAggregateMessage.From(w.Aggregate, w.Revision))), ct),
            kafka.PublishAsync(Topics.GridNodeAggregates, nodes.Select(n => (n.Node.NodeId, GridNodeAggregateMessage.From(n.Node, n.Revision))), ct));
        await store.UpsertAsync(windows.Select(w => w.Aggregate).ToList(), nodes, checkpoint, ct);
        PipelineMetrics.RegionalWindowsPublished.Add(windows.Count);
    }
}
