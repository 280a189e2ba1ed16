using System.Text.Json.Serialization;

namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// One smart-meter reading in the seed's wire format (snake_case JSON), as published on
/// Kafka <c>raw_readings</c> keyed by <see cref="MeterId"/>. The pair (MeterId, Timestamp)
/// identifies a reading: the same pair seen twice is one reading.
/// </summary>
public sealed record TelemetryReading
{
    [JsonPropertyName("meter_id")] public required string MeterId { get; init; }
    [JsonPropertyName("timestamp")] public required DateTimeOffset Timestamp { get; init; }
    [JsonPropertyName("voltage")] public required double Voltage { get; init; }
    [JsonPropertyName("current")] public required double Current { get; init; }
    [JsonPropertyName("power_kw")] public required double PowerKw { get; init; }
    [JsonPropertyName("energy_kwh")] public required double EnergyKwh { get; init; }
    [JsonPropertyName("power_factor")] public double? PowerFactor { get; init; }
    [JsonPropertyName("frequency")] public double? Frequency { get; init; }
    [JsonPropertyName("region")] public string? Region { get; init; }

    /// <summary>Set by ingestion when the reading was accepted (the seed's enrichment step).</summary>
    [JsonPropertyName("ingested_at")] public DateTimeOffset? IngestedAt { get; init; }
}
