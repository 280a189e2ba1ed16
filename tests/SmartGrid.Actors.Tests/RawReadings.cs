using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// Readings put on raw_readings as a head-end does: keyed by meter, as JSON, idempotent, partitioned by murmur2 as every
/// producer of the topic must (<see cref="ProducerSettings{TKey,TValue}.Partitioner"/>). A meter bucket's meters must
/// all come from one partition: with librdkafka's default partitioner, a topic of more than one partition fed a bucket
/// from two partitions' runs, the newer run's groups made the bucket refuse the older's, and those replayed.
/// </summary>
internal static class RawReadings
{
    public static void Produce(string bootstrap, IEnumerable<TelemetryReading> readings)
    {
        KafkaNative.EnsureLoaded();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, EnableIdempotence = true, LingerMs = 5, Partitioner = Partitioner.Murmur2Random,
        }).Build();
        foreach (var r in readings)
            producer.Produce(Topics.RawReadings, new Message<string, string> { Key = r.MeterId, Value = System.Text.Json.JsonSerializer.Serialize(r) });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>A reading of a meter at <paramref name="at"/>, the same power each time.</summary>
    public static TelemetryReading Reading(string meterId, DateTimeOffset at) => new()
    {
        MeterId = meterId, Timestamp = at, Voltage = 230, Current = 4.35, PowerKw = 1.0,
        EnergyKwh = 1.0 / 360, PowerFactor = 0.95, Frequency = 50, Region = "Nashik",
    };
}
