using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Bench;

/// <summary>The benches' synthetic readings: a meter's <paramref name="index"/> spreads it over the regions and over its tick.</summary>
internal static class BenchReadings
{
    public static readonly string[] Regions = ["Mumbai-Central", "Mumbai-North", "Pune-West", "Nashik"];

    public static string MeterId(int index) => $"MTR-{index + 1:D8}";

    public static string RegionOf(int index) => Regions[index % Regions.Length];

    public static TelemetryReading Create(string meterId, int index, DateTimeOffset tick, Random random)
    {
        var power = Math.Round(0.5 + 4 * random.NextDouble(), 4);
        var voltage = Math.Round(225 + 10 * random.NextDouble(), 3);
        return new TelemetryReading
        {
            MeterId = meterId,
            Timestamp = tick + TimeSpan.FromMilliseconds(index % 9_000),
            Voltage = voltage,
            Current = Math.Round(power * 1000 / voltage, 4),
            PowerKw = power,
            EnergyKwh = Math.Round(power * 10 / 3600, 6),
            PowerFactor = 0.95,
            Frequency = 50,
            Region = RegionOf(index),
        };
    }
}

/// <summary>Readings into raw_readings keyed by meter, as ingestion produces them (idempotent, zstd); a full local queue waits.</summary>
internal sealed class BenchProducer : IDisposable
{
    private readonly Confluent.Kafka.IProducer<string, string> _producer;
    private int _failed;

    public BenchProducer(string bootstrap)
    {
        SmartGrid.Kafka.KafkaNative.EnsureLoaded();
        _producer = new Confluent.Kafka.ProducerBuilder<string, string>(new Confluent.Kafka.ProducerConfig
        {
            BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Confluent.Kafka.Acks.All,
            CompressionType = Confluent.Kafka.CompressionType.Zstd, LingerMs = 5,
            // As ingestion's producers: a meter's readings land in the partition its shard follows (MeterPartition).
            Partitioner = Confluent.Kafka.Partitioner.Murmur2Random,
        }).Build();
    }

    public void Produce(TelemetryReading reading)
    {
        var message = new Confluent.Kafka.Message<string, string> { Key = reading.MeterId, Value = System.Text.Json.JsonSerializer.Serialize(reading) };
        while (true)
        {
            try
            {
                _producer.Produce(Topics.RawReadings, message, report => { if (report.Error.IsError) Interlocked.Increment(ref _failed); });
                return;
            }
            catch (Confluent.Kafka.ProduceException<string, string> e) when (e.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Waits for every delivery; throws when the broker refused any.</summary>
    public void Flush()
    {
        _producer.Flush(TimeSpan.FromSeconds(60));
        if (_failed > 0) throw new InvalidOperationException($"{_failed} reading(s) could not be produced");
    }

    public void Dispose() => _producer.Dispose();
}
