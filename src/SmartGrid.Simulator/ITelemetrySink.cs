using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Simulator;

/// <summary>Where the simulator delivers its batches: the ingestion endpoint, Kafka, or a benchmark's own sink.</summary>
public interface ITelemetrySink
{
    /// <summary>
    /// Delivers one batch and says what became of it. Throws when the batch was not delivered
    /// (the simulator retries it); a batch whose records were refused is delivered, with rejections.
    /// </summary>
    Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct);
}

/// <summary>How many readings of a delivered batch were accepted and how many rejected.</summary>
public readonly record struct SinkResult(int Accepted, int Rejected);
