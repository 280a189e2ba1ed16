using System.Text;
using System.Text.Json;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Ingestion;

namespace SmartGrid.Integration.Tests.Ingestion;

/// <summary>A ledger row holds the exact Kafka records of its batch: what the pump publishes is what ingestion accepted.</summary>
public sealed class LedgerPayloadSpecs
{
    [Fact]
    public void Should_give_back_each_reading_as_its_raw_readings_record_in_order()
    {
        var at = new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);
        // Long enough for multi-byte length prefixes; non-ASCII region to count bytes, not chars.
        var readings = Enumerable.Range(0, 300).Select(i => new TelemetryReading
        {
            MeterId = $"MTR-{i:D8}", Timestamp = at.AddSeconds(i), Voltage = 230 + i / 1000.0, Current = 4.2, PowerKw = 1 + i,
            EnergyKwh = 0.01, PowerFactor = i % 2 == 0 ? 0.97 : null, Region = i % 3 == 0 ? "Nāshik-" + new string('x', 200) : "Pune-West",
            IngestedAt = at.AddMinutes(1),
        }).ToList();

        using var payload = LedgerPayload.Encode(readings);
        var records = LedgerPayload.Decode(payload.Span);

        Assert.Equal(readings.Count, records.Count);
        for (var i = 0; i < readings.Count; i++)
        {
            Assert.Equal(readings[i].MeterId, Encoding.UTF8.GetString(records[i].Key));
            Assert.Equal(JsonSerializer.Serialize(readings[i], IngestionJsonContext.Default.TelemetryReading), Encoding.UTF8.GetString(records[i].Value));
        }
    }

    [Fact]
    public void Should_refuse_a_truncated_payload()
    {
        using var payload = LedgerPayload.Encode([new TelemetryReading
        {
            MeterId = "MTR-00000001", Timestamp = DateTimeOffset.UnixEpoch, Voltage = 230, Current = 1, PowerKw = 0.2, EnergyKwh = 0.001,
        }]);

        Assert.Throws<InvalidDataException>(() => LedgerPayload.Decode(payload.Span[..^1]));
    }
}
