using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Event;
using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Holds readings that reached raw_readings without HTTP ingestion (the simulator's Kafka mode,
/// an external head-end with broker credentials) to the rule ingestion applies
/// (<see cref="RegionClaims.Resolve"/>): a reading naming an unknown or retired region, or
/// another region than its registered meter's, goes to the dead-letter topic with its key in
/// the log line, like any bad record; a reading without region takes its meter's. It runs in the
/// stream, not in the deserializer: the registry is looked up asynchronously and in batches, and
/// when PostgreSQL cannot answer the stream fails and replays from its last commit instead of
/// dead-lettering good readings. Unregistered meters naming an active region pass (the broker's
/// credentials are the trust boundary here; HTTP is where unknown meters are refused).
/// </summary>
public sealed class RegistryGate(MeterRegistry meters, RegionCatalog regions, IProducer<string, string> producer, string deadLetterTopic, ILoggingAdapter log)
{
    /// <summary>
    /// The readings of <paramref name="group"/> to count, with the registry's region; the others
    /// are dead-lettered (awaited) when <paramref name="deadLetter"/>, else only left out (a second
    /// consumer of the same records, so each refused record is dead-lettered once).
    /// </summary>
    public async Task<List<TelemetryReading>> AdmitAsync(IReadOnlyList<CommittableMessage<string, TelemetryReading>> group, bool deadLetter = true)
    {
        var snapshot = await regions.GetAsync();
        var registered = await meters.GetRegionsAsync(group.Select(m => m.Value.MeterId));
        var admitted = new List<TelemetryReading>(group.Count);
        List<Task>? deadLetters = null;
        foreach (var message in group)
        {
            var reading = message.Value;
            var (region, error) = snapshot.Resolve(reading.MeterId, reading.Region, registered.GetValueOrDefault(reading.MeterId));
            if (error is null)
                admitted.Add(reading.Region == region ? reading : reading with { Region = region });
            else if (deadLetter)
                (deadLetters ??= []).Add(DeadLetterAsync(message, "region: " + error));
        }
        if (deadLetters is not null)
            await Task.WhenAll(deadLetters);
        return admitted;
    }

    private Task<DeliveryResult<string, string>> DeadLetterAsync(CommittableMessage<string, TelemetryReading> message, string reason)
    {
        var record = message.Record;
        log.Error("Record {0}[{1}]@{2} with key {3} goes to dead-letter topic {4}: {5}",
            record.Topic, record.Partition.Value, record.Offset.Value, record.Message.Key, deadLetterTopic, reason);
        var headers = new Headers
        {
            { "reason", Encoding.UTF8.GetBytes(reason) },
            { "source-topic", Encoding.UTF8.GetBytes(record.Topic) },
            { "source-partition", Encoding.UTF8.GetBytes(record.Partition.Value.ToString(CultureInfo.InvariantCulture)) },
            { "source-offset", Encoding.UTF8.GetBytes(record.Offset.Value.ToString(CultureInfo.InvariantCulture)) },
        };
        return producer.ProduceAsync(deadLetterTopic, new Message<string, string>
        {
            Key = record.Message.Key,
            Value = JsonSerializer.Serialize(message.Value),
            Headers = headers,
            Timestamp = record.Message.Timestamp,
        });
    }
}
