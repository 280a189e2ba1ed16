using System.Text.Json;
using System.Text.Json.Serialization;

namespace SmartGrid.Contracts;

/// <summary>
/// The one JSON settings object of every contract (Kafka topics, the services' Akka serializer, Redis
/// values): snake_case names, enums as snake_case strings. Numbers may arrive as strings on reading;
/// writing is unaffected, so producers and consumers share these settings.
/// </summary>
public static class WireJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"null {typeof(T).Name}");
}
