using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Ingestion;

namespace SmartGrid.Node;

/// <summary>
/// Every few seconds, one log line an operator can read at a glance: readings/s ingested and
/// processed, the processor group's consumer lag, windows and anomalies published. Reads the
/// node's own instruments through a MeterListener, and the lag from the broker's watermarks
/// against the group's committed offsets (also exported per partition as smartgrid_pipeline_consumer_lag).
/// </summary>
public sealed class StatusReporter(KafkaEndpoint kafka, ILogger<StatusReporter> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private const string Ingestion = IngestionMetrics.MeterName, Pipeline = PipelineMetrics.MeterName;
    private static readonly string[] Watched = [Ingestion, Pipeline];

    // Keyed by meter and instrument: both meters have a "readings.accepted".
    private readonly ConcurrentDictionary<(string Meter, string Instrument), long> _totals = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (Watched.Contains(instrument.Meter.Name) && instrument is Counter<long>) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate((instrument.Meter.Name, instrument.Name), value, (_, t) => t + value));
        listener.Start();

        KafkaNative.EnsureLoaded();
        using var lagProbe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers, GroupId = TelemetryConsumer.GroupId, EnableAutoCommit = false,
        }).Build();
        var partitions = Enumerable.Range(0, Topics.RawReadings.Partitions)
            .Select(p => new TopicPartition(Topics.RawReadings, p)).ToList();

        var previous = new Dictionary<(string, string), long>();
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            double Rate(string meter, string instrument)
            {
                var name = (meter, instrument);
                var now = _totals.GetValueOrDefault(name);
                var rate = (now - previous.GetValueOrDefault(name)) / Interval.TotalSeconds;
                previous[name] = now;
                return rate;
            }
            var ingested = Rate(Ingestion, "readings.accepted");
            var processed = Rate(Pipeline, "readings.accepted");
            var duplicates = Rate(Pipeline, "readings.duplicate");
            // The line is all this reporter is for: with Information off, the broker is not asked for the lag either.
            if (!log.IsEnabled(LogLevel.Information))
                continue;
            var lag = await Task.Run(() => Lag(lagProbe, partitions), stoppingToken);
            var windows = _totals.GetValueOrDefault((Pipeline, "windows.published"));
            var regional = _totals.GetValueOrDefault((Pipeline, "regional_windows.published"));
            var anomalies = _totals.GetValueOrDefault((Pipeline, "anomalies.published"));
            var tooLate = _totals.GetValueOrDefault((Pipeline, "readings.too_late"));
            log.Status(ingested, processed, duplicates, lag, windows, regional, anomalies, tooLate);
        }
    }

    /// <summary>Sum over partitions of (high watermark − committed offset); "?" when the broker does not answer in time.</summary>
    private static string Lag(IConsumer<Ignore, Ignore> probe, List<TopicPartition> partitions)
    {
        try
        {
            var committed = probe.Committed(partitions, TimeSpan.FromSeconds(2));
            long lag = 0;
            foreach (var c in committed)
            {
                var high = probe.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(2)).High.Value;
                var partitionLag = Math.Max(0, high - (c.Offset.IsSpecial ? 0 : c.Offset.Value));
                PipelineMetrics.ReportLag(TelemetryConsumer.GroupId, c.Topic, c.Partition.Value, partitionLag);
                lag += partitionLag;
            }
            return lag.ToString();
        }
        catch (KafkaException)
        {
            return "?";
        }
    }
}
