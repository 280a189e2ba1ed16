using System.Text.Json;
using Confluent.Kafka;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// What the pipeline tells the rest of the system: the aggregates_1m, aggregates_15m, anomalies and
/// regional_aggregates topics, read back as any consumer reads them (JSON by field name, the newest
/// revision of each window) and compared with the truth worked out here from the readings posted.
/// </summary>
public sealed class OutputTopicSpecs(ITestOutputHelper output)
{
    private const int Meters = 12;
    private const int SteadyMinutes = 12;
    private static readonly string[] RegionNames = ["Nashik", "Pune-West"];

    /// <summary>
    /// Twelve meters over two regions, every 10 s, each at a steady power of its own for twelve minutes
    /// of one hour (the baseline's slot: ten closed minutes establish it), then one minute in which every
    /// fourth meter draws four times as much, then two steady minutes that close it.
    /// </summary>
    private static List<TelemetryReading> Scenario(DateTimeOffset hour)
    {
        var readings = new List<TelemetryReading>();
        for (var second = 0; second < (SteadyMinutes + 3) * 60; second += 10)
            for (var m = 0; m < Meters; m++)
            {
                var steady = SteadyKw(m);
                var spiking = second / 60 == SteadyMinutes && IsSpiking(m);
                var power = spiking ? 4 * steady : steady;
                readings.Add(new TelemetryReading
                {
                    MeterId = MeterId(m), Timestamp = hour.AddSeconds(second), Voltage = 228 + m, Current = power * 1000 / 230,
                    PowerKw = power, EnergyKwh = power * 10 / 3600, PowerFactor = 0.95, Frequency = 50, Region = RegionNames[m % 2],
                });
            }
        return readings;
    }

    private static string MeterId(int m) => $"MTR-{77_000_000 + m:D8}";
    private static double SteadyKw(int m) => 1 + 0.25 * m;
    private static bool IsSpiking(int m) => m % 4 == 1;

    [Fact]
    public async Task Should_publish_on_every_output_topic_exactly_what_the_posted_readings_add_up_to()
    {
        var hour = DateTimeOffset.UtcNow.AddHours(-3);
        hour = new DateTimeOffset(hour.Year, hour.Month, hour.Day, hour.Hour, 0, 0, TimeSpan.Zero);
        var readings = Scenario(hour);
        var truth = GroundTruth.Of(readings, PipelineNode.Lateness);
        Assert.Equal((readings.Count, 0, 0), (truth.Accepted, truth.Duplicates, truth.TooLate));
        var spikeMinute = hour.AddMinutes(SteadyMinutes);
        var spikes = Enumerable.Range(0, Meters).Where(IsSpiking).ToDictionary(MeterId, SteadyKw);

        await using var node = await PipelineNode.StartAsync();
        await PipelineNode.ProduceAsync(node.KafkaBootstrap, readings);

        var expected1m = truth.OneMinute.Count;
        var expected15m = truth.FifteenMinutes.Count;
        var regional1m = GroundTruth.Regional(truth.OneMinute);
        var regional15m = GroundTruth.Regional(truth.FifteenMinutes);
        var topics = await ReadUntilAsync(node.KafkaBootstrap, t =>
            Newest(t[Topics.Aggregates1m], MeterKey).Count == expected1m
            && Newest(t[Topics.Aggregates15m], MeterKey).Count == expected15m
            && Newest(t[Topics.RegionalAggregates], RegionalKey).Count == regional1m.Count + regional15m.Count
            && t[Topics.Anomalies].Count >= spikes.Count
            && MatchesMeterTruth(Newest(t[Topics.Aggregates1m], MeterKey), truth.OneMinute)
            && MatchesMeterTruth(Newest(t[Topics.Aggregates15m], MeterKey), truth.FifteenMinutes)
            && MatchesRegionalTruth(Newest(t[Topics.RegionalAggregates], RegionalKey), regional1m, regional15m), TimeSpan.FromSeconds(120));

        // Per meter and window, the newest revision is the truth, field by field.
        AssertMeterTruth(Newest(topics[Topics.Aggregates1m], MeterKey), truth.OneMinute);
        AssertMeterTruth(Newest(topics[Topics.Aggregates15m], MeterKey), truth.FifteenMinutes);

        // Per region and window: meters, readings, the sum of the meters' average power, energy, and load against capacity.
        var regional = Newest(topics[Topics.RegionalAggregates], RegionalKey);
        Assert.True(MatchesRegionalTruth(regional, regional1m, regional15m, output.WriteLine), "regional_aggregates differs from the truth (see output)");
        Assert.All(regional.Values, r =>
        {
            var capacity = Regions.Defaults.Single(d => d.Name == r.GetProperty("region").GetString()).CapacityKw;
            Assert.Equal(capacity, r.GetProperty("capacity_kw").GetDouble());
            Assert.True(GroundTruth.Close(r.GetProperty("total_power_kw").GetDouble() * 100 / capacity, r.GetProperty("load_percentage").GetDouble()));
        });

        // Exactly the spiking meters, once each, in the spike minute: 4 x steady against a steady baseline is +300 %.
        var anomalies = topics[Topics.Anomalies];
        Assert.Equal(spikes.Keys.Order(), anomalies.Select(a => a.GetProperty("meter_id").GetString()!).Order());
        Assert.All(anomalies, a =>
        {
            var steady = spikes[a.GetProperty("meter_id").GetString()!];
            Assert.Equal("spike", a.GetProperty("kind").GetString(), ignoreCase: true);
            Assert.Equal(spikeMinute, a.GetProperty("timestamp").GetDateTimeOffset());
            Assert.True(GroundTruth.Close(steady, a.GetProperty("baseline_kw").GetDouble()), $"baseline {a}");
            Assert.True(GroundTruth.Close(4 * steady, a.GetProperty("actual_kw").GetDouble()), $"actual {a}");
            Assert.True(GroundTruth.Close(300, a.GetProperty("deviation_percent").GetDouble()), $"deviation {a}");
        });
        output.WriteLine($"{readings.Count} readings: {expected1m} + {expected15m} meter windows, {regional.Count} regional windows, {anomalies.Count} anomalies");
    }

    private static (string, DateTimeOffset) MeterKey(JsonElement m) =>
        (m.GetProperty("meter_id").GetString()!, m.GetProperty("window_start").GetDateTimeOffset());

    private static (string, DateTimeOffset) RegionalKey(JsonElement m) =>
        (m.GetProperty("region").GetString() + "/" + m.GetProperty("window_size").GetString(), m.GetProperty("window_start").GetDateTimeOffset());

    /// <summary>The newest revision of each window, as a consumer that de-duplicates on revision keeps it.</summary>
    private static Dictionary<(string, DateTimeOffset), JsonElement> Newest(List<JsonElement> messages, Func<JsonElement, (string, DateTimeOffset)> key) =>
        messages.GroupBy(key).ToDictionary(g => g.Key, g => g.MaxBy(m => m.GetProperty("revision").GetInt32()));

    private static bool MatchesMeterTruth(Dictionary<(string, DateTimeOffset), JsonElement> published, Dictionary<(string Meter, DateTimeOffset Start), GroundTruth.Row> truth) =>
        truth.Count == published.Count && truth.All(t => published.TryGetValue(t.Key, out var m) && MeterDifference(t.Value, m) is null);

    private static void AssertMeterTruth(Dictionary<(string, DateTimeOffset), JsonElement> published, Dictionary<(string Meter, DateTimeOffset Start), GroundTruth.Row> truth)
    {
        Assert.Equal(truth.Keys.Order(), published.Keys.Order());
        Assert.All(truth, t => Assert.Null(MeterDifference(t.Value, published[t.Key])));
    }

    private static string? MeterDifference(GroundTruth.Row row, JsonElement m)
    {
        (string Field, double Expected)[] fields =
        [
            ("reading_count", row.Count), ("energy_kwh_sum", row.EnergySum), ("power_kw_avg", row.PowerSum / row.Count),
            ("power_kw_min", row.PowerMin), ("power_kw_max", row.PowerMax), ("voltage_avg", row.VoltageSum / row.Count),
            ("current_avg", row.CurrentSum / row.Count),
        ];
        if (m.GetProperty("region").GetString() != row.Region) return $"{row.MeterId}@{row.WindowStart:O}: region {m.GetProperty("region")}, expected {row.Region}";
        foreach (var (field, expected) in fields)
            if (!GroundTruth.Close(expected, m.GetProperty(field).GetDouble()))
                return $"{row.MeterId}@{row.WindowStart:O}: {field} {m.GetProperty(field)}, expected {expected}";
        return null;
    }

    private static bool MatchesRegionalTruth(Dictionary<(string, DateTimeOffset), JsonElement> published,
        IReadOnlyList<GroundTruth.RegionalRow> oneMinute, IReadOnlyList<GroundTruth.RegionalRow> fifteenMinutes, Action<string>? explain = null)
    {
        var expected = oneMinute.Select(r => (Key: (r.Region + "/1m", r.WindowStart), Row: r))
            .Concat(fifteenMinutes.Select(r => (Key: (r.Region + "/15m", r.WindowStart), Row: r)))
            .ToList();
        var ok = expected.Count == published.Count;
        foreach (var (key, row) in expected)
        {
            if (!published.TryGetValue(key, out var m))
            {
                explain?.Invoke($"{key}: not published");
                ok = false;
                continue;
            }
            var same = m.GetProperty("meter_count").GetInt32() == row.MeterCount && m.GetProperty("reading_count").GetInt32() == row.ReadingCount
                       && GroundTruth.Close(row.TotalPowerKw, m.GetProperty("total_power_kw").GetDouble())
                       && GroundTruth.Close(row.EnergySum, m.GetProperty("energy_kwh_sum").GetDouble());
            if (!same) explain?.Invoke($"{key}: published {m}, expected {row}");
            ok &= same;
        }
        return ok;
    }

    /// <summary>Reads the four output topics from their beginning until <paramref name="done"/> holds for what arrived.</summary>
    private static async Task<Dictionary<string, List<JsonElement>>> ReadUntilAsync(string bootstrap, Func<Dictionary<string, List<JsonElement>>, bool> done, TimeSpan patience)
    {
        string[] names = [Topics.Aggregates1m, Topics.Aggregates15m, Topics.Anomalies, Topics.RegionalAggregates];
        var seen = names.ToDictionary(n => n, _ => new List<JsonElement>());
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "output-topic-specs-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Topics.All.Where(t => names.Contains(t.Name))
            .SelectMany(t => Enumerable.Range(0, t.Partitions).Select(p => new TopicPartitionOffset(t.Name, p, Offset.Beginning))));
        var deadline = DateTime.UtcNow + patience;
        var lastCheck = DateTime.MinValue;
        while (true)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is { IsPartitionEOF: false, Message: not null })
            {
                using var json = JsonDocument.Parse(record.Message.Value);
                seen[record.Topic].Add(json.RootElement.Clone());
                continue;
            }
            if (DateTime.UtcNow - lastCheck > TimeSpan.FromSeconds(1))
            {
                lastCheck = DateTime.UtcNow;
                if (done(seen)) return seen;
            }
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"the output topics never matched the truth within {patience}: " +
                                                   string.Join(", ", seen.Select(s => $"{s.Key} {s.Value.Count} messages")));
            await Task.Yield();
        }
    }
}
