using System.Globalization;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Domain;
using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Bench;

/// <summary>
/// `bench alerts`: latency from an anomaly published on Kafka to its ANOMALY alert row being
/// visible in PostgreSQL, through a real node with the services role (embedded broker in this
/// process, fresh database, Redis of ConnectionStrings__Redis).
/// <para>
/// The load is the seed's: the simulator's spike and drop episodes over the fleet give the
/// anomalies of one 1-minute window close, which the pipeline publishes together, and the four
/// regions' 1-minute windows come with them. A burst of that size is sent every --interval-ms
/// (default 2 s: the seed's per-minute load 30 times as often, so the figures are conservative).
/// Every anomaly is of a meter with no open alert, so each one creates an alert (the slower path:
/// row, audit row, alerts topic, Redis count).
/// </para>
/// </summary>
internal static class AlertBench
{
    private static readonly string[] Regions = ["bench-Mumbai-Central", "bench-Mumbai-North", "bench-Pune-West", "bench-Nashik"];

    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 5_000, "simulated meters");
    internal static readonly Option<int> Bursts = BenchOptions.Int("--bursts", 60, "anomaly bursts to time");
    internal static readonly Option<int> IntervalMs = BenchOptions.Int("--interval-ms", 2_000, "milliseconds between bursts");

    internal static async Task<int> RunAsync(int meters, int bursts, int intervalMs)
    {
        var interval = TimeSpan.FromMilliseconds(intervalMs);
        var fleet = new SimulationOptions();
        var inEpisode = meters * (fleet.SpikesPerMeterPerDay * fleet.SpikeDuration.TotalDays + fleet.DropsPerMeterPerDay * fleet.DropDuration.TotalDays);
        var burst = Math.Max(1, (int)Math.Round(inEpisode));

        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var database = await BenchDatabase.CreateAsync();
        Console.WriteLine($"alert bench: {meters:N0} meters → {inEpisode:0.0} anomalies per 1-minute window close (simulator: " +
                          $"{fleet.SpikesPerMeterPerDay} spikes and {fleet.DropsPerMeterPerDay} drops per meter per day, " +
                          $"{fleet.SpikeDuration.TotalMinutes:0} min each); bursts of {burst} anomalies + {Regions.Length} regional windows " +
                          $"every {interval.TotalSeconds:0.0} s ({60 / interval.TotalSeconds:0}× the seed's rate), {bursts} bursts; " +
                          $"database {database.Name}, broker {broker.BootstrapServers}");

        await using var node = await BenchNode.StartAsync(BenchNode.Args(database, broker, ClusterRoles.Services, FreePort.Next(),
            "--Logging:LogLevel:Default=Warning"));
        using var producer = ProducerSettings.ForStrings(broker.BootstrapServers).CreateProducer();
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        var watcher = new AlertWatcher(db);

        // Warm-up: the singleton is up and its consumer has joined the group once an alert appears.
        var clock = Stopwatch.StartNew();
        await PublishAsync(producer, "MTR-WARMUP", Regions[0], DateTimeOffset.UtcNow);
        await watcher.WaitForAsync(["MTR-WARMUP"], TimeSpan.FromSeconds(60));
        Console.WriteLine($"services node up and consuming after {clock.Elapsed.TotalSeconds:0.0} s");

        var sentAt = new Dictionary<string, long>();
        var windowStart = DateTimeOffset.UtcNow;
        for (var b = 0; b < bursts; b++)
        {
            var next = Stopwatch.GetTimestamp() + (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var minute = windowStart.AddMinutes(b);
            var sends = new List<Task>();
            for (var i = 0; i < burst; i++)
            {
                var meter = $"MTR-{b * burst + i + 1:D8}";
                sentAt[meter] = Stopwatch.GetTimestamp();
                sends.Add(PublishAsync(producer, meter, Regions[i % Regions.Length], minute));
            }

            // The regional windows of the same minute, which the AlertManager also consumes.
            sends.AddRange(Regions.Select(region => producer.ProduceAsync(Topics.RegionalAggregates, new Message<string, string>
            {
                Key = region,
                Value = WireJson.Serialize(new RegionalAggregateMessage
                {
                    Region = region, WindowSize = "1m", WindowStart = minute, WindowEnd = minute.AddMinutes(1), MeterCount = meters / 4,
                    TotalPowerKw = 1_500, CapacityKw = 3_000, LoadPercentage = 50, Revision = 1,
                }),
            })));
            await Task.WhenAll(sends);
            watcher.Poll();
            while (Stopwatch.GetTimestamp() < next)
            {
                watcher.Poll();
                await Task.Delay(5);
            }
        }

        var missing = await watcher.WaitForAsync(sentAt.Keys, TimeSpan.FromSeconds(30));
        var latencies = sentAt.Where(s => watcher.SeenAt.ContainsKey(s.Key))
            .Select(s => Stopwatch.GetElapsedTime(s.Value, watcher.SeenAt[s.Key]).TotalMilliseconds)
            .Order().ToList();
        var within = latencies.Count(l => l <= 1_000);
        Console.WriteLine($"anomaly → alert row visible to a reader, {latencies.Count} alerts: p50 {Percentile(latencies, 50)} ms, " +
                          $"p95 {Percentile(latencies, 95)} ms, p99 {Percentile(latencies, 99)} ms, max {Percentile(latencies, 100)} ms " +
                          $"(poll every ~5 ms); within 1 s: {within}/{sentAt.Count}; missing: {missing}");
        return missing == 0 && within == sentAt.Count ? 0 : 1;
    }

    private static Task<DeliveryResult<string, string>> PublishAsync(IProducer<string, string> producer, string meter, string region, DateTimeOffset windowStart) =>
        producer.ProduceAsync(Topics.Anomalies, new Message<string, string>
        {
            Key = meter,
            Value = WireJson.Serialize(new Anomaly
            {
                MeterId = meter, Region = region, Kind = AnomalyKind.Spike, Timestamp = windowStart, BaselineKw = 1.2, ActualKw = 3.9,
                DeviationPercent = 225, Severity = Severity.High,
            }),
        });

    private static string Percentile(List<double> sorted, int percent) =>
        sorted.Count == 0 ? "-" : Percentiles.Of(sorted, percent).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Reads the created-alert audit rows as they appear (in event order) and notes when each meter's was first seen.</summary>
    private sealed class AlertWatcher(NpgsqlDataSource db)
    {
        private long _lastEvent;

        public Dictionary<string, long> SeenAt { get; } = [];

        public void Poll()
        {
            using var command = db.CreateCommand(
                "SELECT event_id, alert ->> 'meter_id' FROM alert_acknowledgments WHERE event_id > $1 AND action = 'created' ORDER BY event_id");
            command.Parameters.AddWithValue(_lastEvent);
            using var reader = command.ExecuteReader();
            var now = Stopwatch.GetTimestamp();
            while (reader.Read())
            {
                _lastEvent = reader.GetInt64(0);
                if (!reader.IsDBNull(1)) SeenAt.TryAdd(reader.GetString(1), now);
            }
        }

        /// <summary>Polls until every meter's alert was seen or the timeout; the number never seen.</summary>
        public async Task<int> WaitForAsync(IEnumerable<string> meters, TimeSpan timeout)
        {
            var wanted = meters.ToList();
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                Poll();
                var missing = wanted.Count(m => !SeenAt.ContainsKey(m));
                if (missing == 0 || Stopwatch.GetTimestamp() > deadline) return missing;
                await Task.Delay(5);
            }
        }
    }
}
