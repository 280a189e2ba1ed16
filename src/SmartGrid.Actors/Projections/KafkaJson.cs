using System.Text.Json;
using System.Text.Json.Serialization;
using Confluent.Kafka;

namespace SmartGrid.Actors.Projections;

/// <summary>Publishes JSON values keyed by string and waits for the broker's acknowledgement of all of them.</summary>
public sealed class KafkaJson(IProducer<string, string> producer)
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public Task PublishAsync<T>(string topic, IEnumerable<(string Key, T Value)> messages, CancellationToken ct) =>
        Task.WhenAll(messages.Select(m => producer.ProduceAsync(topic,
            new Message<string, string> { Key = m.Key, Value = JsonSerializer.Serialize(m.Value, Options) }, ct)));
}
