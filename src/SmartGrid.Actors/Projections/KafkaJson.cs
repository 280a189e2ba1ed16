using Confluent.Kafka;
using SmartGrid.Contracts;

namespace SmartGrid.Actors.Projections;

/// <summary>
/// Publishes JSON values keyed by string and waits for the broker's acknowledgement of all of them. The JSON
/// is the contracts' (<see cref="WireJson"/>), the same settings the consumers of these topics read with.
/// </summary>
public sealed class KafkaJson(IProducer<string, string> producer)
{
    public Task PublishAsync<T>(string topic, IEnumerable<(string Key, T Value)> messages, CancellationToken ct) =>
        Task.WhenAll(messages.Select(m => producer.ProduceAsync(topic,
            new Message<string, string> { Key = m.Key, Value = WireJson.Serialize(m.Value) }, ct)));
}
