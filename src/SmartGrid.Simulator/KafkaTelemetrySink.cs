using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Ingestion;

namespace SmartGrid.Simulator;

/// <summary>
/// Publishes batches straight to Kafka raw_readings keyed by meter id, as ingestion would but
/// without its validation and enrichment; a batch counts as accepted once Kafka acknowledged it.
/// </summary>
public sealed class KafkaTelemetrySink(IProducer<string, string> producer, TimeSpan ackTimeout) : ITelemetrySink
{
    private readonly ReadingPublisher _publisher = new(producer);

    public async Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct)
    {
        await _publisher.PublishAsync(batch, ackTimeout, ct);
        return new SinkResult(batch.Count, 0);
    }
}
