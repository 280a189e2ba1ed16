using Akka.Actor;
using Akka.Persistence.Query;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Regional;
using SmartGrid.Contracts;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Projections;

/// <summary>
/// Takes the meters' published windows and anomalies (tag <see cref="Metering.MeterBucket.WindowsTag"/>)
/// to their three destinations, in an order that makes a replayed batch harmless: the region
/// actors (which ignore revisions they hold), the Kafka topics aggregates_1m, aggregates_15m and
/// anomalies (at-least-once, keyed by meter, carrying the revision), and last the aggregate
/// tables, voltage_10m, the voltage events and the customer interruptions, UPSERTed in the same
/// transaction that stores this projection's offset.
/// </summary>
public sealed class WindowProjection(IActorRef regions, KafkaJson kafka, AggregateStore store, TimeSpan askTimeout)
{
    public const string ProjectionId = "meter-windows";

    public async Task HandleAsync(IReadOnlyList<EventEnvelope> batch, ProjectionCheckpoint checkpoint, CancellationToken ct)
    {
        var emitted = batch.Select(e => e.Event).OfType<WindowsEmitted>().ToList();
        var windows = EmittedWindow.NewestRevisions(emitted.SelectMany(e => e.Windows)).ToList();
        var anomalies = emitted.SelectMany(e => e.Anomalies).ToList();

        await Task.WhenAll(windows.GroupBy(w => w.Aggregate.Region).Select(g =>
            regions.Ask<MeterWindowsRecorded>(new RecordMeterWindows(g.Key, g.ToList()), askTimeout, ct)));

        await Task.WhenAll(
            kafka.PublishAsync(Topics.Aggregates1m, Messages(windows, WindowSize.OneMinute), ct),
            kafka.PublishAsync(Topics.Aggregates15m, Messages(windows, WindowSize.FifteenMinutes), ct),
            kafka.PublishAsync(Topics.Anomalies, anomalies.Select(a => (a.MeterId, a)), ct));

        var voltageEvents = batch.Select(e => e.Event).OfType<VoltageEventsObserved>().SelectMany(e => e.Events).ToList();
        var interruptions = batch.Select(e => e.Event).OfType<CustomerInterruptionsObserved>()
            .SelectMany(e => e.Interruptions.Select(i => (e.Region, i))).ToList();
        await store.UpsertAsync(windows.Select(w => w.Aggregate).ToList(), voltageEvents, interruptions, checkpoint, ct);
        PipelineMetrics.WindowsPublished.Add(windows.Count);
        PipelineMetrics.AnomaliesPublished.Add(anomalies.Count);
        var now = DateTimeOffset.UtcNow;
        foreach (var envelope in batch)
            PipelineMetrics.WindowLatency.Record((now - JournalTime(envelope.Timestamp)).TotalMilliseconds);
    }

    /// <summary>Journal plugins stamp events either in DateTime ticks or in Unix milliseconds; both are far apart in magnitude.</summary>
    private static DateTimeOffset JournalTime(long stamp) =>
        stamp > 100_000_000_000_000 ? new DateTimeOffset(stamp, TimeSpan.Zero) : DateTimeOffset.FromUnixTimeMilliseconds(stamp);

    private static IEnumerable<(string, AggregateMessage)> Messages(IEnumerable<EmittedWindow> windows, WindowSize size) =>
        windows.Where(w => w.Aggregate.Size == size).Select(w => (w.Aggregate.MeterId, AggregateMessage.From(w)));
}
