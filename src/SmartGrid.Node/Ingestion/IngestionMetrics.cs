using System.Diagnostics.Metrics;

namespace SmartGrid.Node.Ingestion;

/// <summary>The ingestion endpoint's instruments (Meter <see cref="MeterName"/>).</summary>
public sealed class IngestionMetrics
{
    public const string MeterName = "SmartGrid.Ingestion";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _provisioned;
    private readonly Counter<long> _publishFailures;
    private readonly Histogram<double> _ackLatency;

    public IngestionMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("readings.accepted", "{reading}",
            "Readings validated and acknowledged by Kafka on raw_readings");
        _rejected = meter.CreateCounter<long>("readings.rejected", "{reading}",
            "Readings refused with a per-record error");
        _provisioned = meter.CreateCounter<long>("meters.provisioned", "{meter}",
            "Meters registered on first sight");
        _publishFailures = meter.CreateCounter<long>("publish.failures", "{batch}",
            "Batches answered 503 because Kafka did not acknowledge them");
        _ackLatency = meter.CreateHistogram<double>("batch.ack_latency", "ms",
            "From the first publish of a batch until Kafka acknowledged its last reading");
    }

    public void Accepted(int count)
    {
        if (count > 0) _accepted.Add(count);
    }

    public void Rejected(int count)
    {
        if (count > 0) _rejected.Add(count);
    }

    public void Provisioned(int count)
    {
        if (count > 0) _provisioned.Add(count);
    }

    public void PublishFailed() => _publishFailures.Add(1);

    public void AckLatency(TimeSpan elapsed) => _ackLatency.Record(elapsed.TotalMilliseconds);
}
