using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// The processing pipeline's instruments (Meter <see cref="MeterName"/>). Static because the
/// streams and projections that report them are created by Akka, not by the container.
/// </summary>
public static class PipelineMetrics
{
    public const string MeterName = "SmartGrid.Pipeline";

    private static readonly Meter Meter = new(MeterName);

    // The newest lag seen per (group, topic, partition); whoever probes the broker writes it, a scrape reads it.
    private static readonly ConcurrentDictionary<(string Group, string Topic, int Partition), long> Lags = new();

    public static readonly Counter<long> ReadingsAccepted = Meter.CreateCounter<long>("readings.accepted", "{reading}",
        "Readings durably accepted by their meter");
    public static readonly Counter<long> ReadingsDuplicate = Meter.CreateCounter<long>("readings.duplicate", "{reading}",
        "Readings a meter already had (re-sent or redelivered)");
    public static readonly Counter<long> ReadingsTooLate = Meter.CreateCounter<long>("readings.too_late", "{reading}",
        "Readings dropped because their window was already final");
    public static readonly Counter<long> WindowsPublished = Meter.CreateCounter<long>("windows.published", "{window}",
        "Meter windows written to the aggregate tables (each revision)");
    public static readonly Counter<long> RegionalWindowsPublished = Meter.CreateCounter<long>("regional_windows.published", "{window}",
        "Regional windows written to the regional tables (each revision)");
    public static readonly Counter<long> AnomaliesPublished = Meter.CreateCounter<long>("anomalies.published", "{anomaly}",
        "Anomalies published on Kafka anomalies");
    public static readonly Histogram<double> WindowLatency = Meter.CreateHistogram<double>("window.close_to_row", "ms",
        "From the meter persisting a published window to its row being committed");
    public static readonly Histogram<double> PersistLatency = Meter.CreateHistogram<double>("persist.duration", "ms",
        "One checkpoint of a partition: from asking the meters it touched to persist until all of them have");
    public static readonly Counter<long> ConsumerRestarts = Meter.CreateCounter<long>("consumer.restarts", "{restart}",
        "Kafka consumer streams rebuilt after a failure (label group): every partition of the group re-read from its commits");
    public static readonly Counter<long> PartitionReplays = Meter.CreateCounter<long>("partition.replays", "{replay}",
        "Telemetry partitions read again from their commits without a restart: a processor left, or a meter restarted before its checkpoint");
    public static readonly UpDownCounter<long> WritesHeld = Meter.CreateUpDownCounter<long>("persistence.writes_held", "{write}",
        "Meters' writes waiting for room (label store: journal, up to its buffer-size in flight; snapshot): the database pacing its writers");
    public static readonly Histogram<long> RecoveryBatchSize = Meter.CreateHistogram<long>("recovery.batch_size", "{entity}",
        "Entities one recovery read answered for in one statement (read: Snapshot, HighestSequenceNr, Events)");
    public static readonly Histogram<long> JournalWriteBatchSize = Meter.CreateHistogram<long>("journal.write_batch_size", "{write}",
        "Meters' journal writes one COPY wrote (BatchedSqlJournal): how many persist calls shared a round trip");

    static PipelineMetrics() =>
        Meter.CreateObservableGauge("consumer.lag", ObserveLag, "{record}",
            "Records on the partition not yet committed by the consumer group (high watermark - committed offset)");

    /// <summary>Records the lag of one partition for a consumer group, as measured against the broker.</summary>
    public static void ReportLag(string group, string topic, int partition, long lag) => Lags[(group, topic, partition)] = lag;

    private static IEnumerable<Measurement<long>> ObserveLag() =>
        Lags.Select(l => new Measurement<long>(l.Value,
            new KeyValuePair<string, object?>("group", l.Key.Group),
            new KeyValuePair<string, object?>("topic", l.Key.Topic),
            new KeyValuePair<string, object?>("partition", l.Key.Partition)));
}
