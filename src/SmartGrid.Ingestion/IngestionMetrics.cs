using System.Diagnostics.Metrics;

namespace SmartGrid.Ingestion;

/// <summary>The ingestion endpoint's instruments (Meter <see cref="MeterName"/>).</summary>
public sealed class IngestionMetrics
{
    public const string MeterName = "SmartGrid.Ingestion";

    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _provisioned;
    private readonly Counter<long> _publishFailures;
    private readonly Histogram<double> _ackLatency;
    private readonly Counter<long> _republished;

    public IngestionMetrics(IMeterFactory meterFactory, LedgerBacklog ledger)
    {
        var meter = meterFactory.Create(MeterName);
        _accepted = meter.CreateCounter<long>("readings.accepted", "{reading}",
            "Readings validated and acknowledged (committed to the ingest ledger)");
        _rejected = meter.CreateCounter<long>("readings.rejected", "{reading}",
            "Readings refused with a per-record error");
        _provisioned = meter.CreateCounter<long>("meters.provisioned", "{meter}",
            "Meters registered on first sight");
        _publishFailures = meter.CreateCounter<long>("publish.failures", "{batch}",
            "Batches answered 503: the ingest ledger could not store them, or holds its maximum backlog");
        _ackLatency = meter.CreateHistogram<double>("batch.ack_latency", "ms",
            "From storing a batch in the ingest ledger until its commit");
        _republished = meter.CreateCounter<long>("ledger.republished", "{reading}",
            "Acknowledged readings published to Kafka again: adopted after a restart, or lost by the broker");
        meter.CreateObservableGauge("ledger.backlog_rows", () => ledger.Rows, "{row}",
            "Ingest ledger rows (batches) the processor has not consumed yet");
        meter.CreateObservableGauge("ledger.backlog_readings", () => ledger.Readings, "{reading}",
            "Acknowledged readings in the ingest ledger the processor has not consumed yet");
        meter.CreateObservableGauge("ledger.throttled", () => ledger.Throttled ? 1 : 0, "",
            "1 while the ledger pump holds rows back because the broker's unconsumed backlog is at MaxBrokerBacklog");
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

    public void Republished(long readings)
    {
        if (readings > 0) _republished.Add(readings);
    }

    public void AckLatency(TimeSpan elapsed) => _ackLatency.Record(elapsed.TotalMilliseconds);
}
