using System.Text;
using Confluent.Kafka;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// A raw_readings value is held to the ingestion contract however it reached the topic: a good
/// one becomes a reading (the pooled buffer it was parsed from is reused by the next record
/// without touching it), a bad one throws with the field and reason the dead letter carries.
/// </summary>
public sealed class ReadingDeserializerSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TelemetryConsumer.ReadingDeserializer _deserializer = new(new ReadingValidator(), new FixedClock(Now));

    private TelemetryReading Read(string json) =>
        _deserializer.Deserialize(Encoding.UTF8.GetBytes(json), false, new SerializationContext(MessageComponentType.Value, Topics.RawReadings));

    private static string Json(string meter, double power) =>
        $$"""{"meter_id":"{{meter}}","timestamp":"2026-12-01T11:59:50Z","voltage":230.1,"current":4.35,"power_kw":{{power}},"energy_kwh":0.0028,"region":"Nashik"}""";

    [Fact]
    public void Should_read_consecutive_records_each_into_its_own_reading()
    {
        var first = Read(Json("MTR-00000001", 1.25));
        var second = Read(Json("MTR-00000002", 3.5));

        Assert.Equal(("MTR-00000001", 1.25, "Nashik"), (first.MeterId, first.PowerKw, first.Region));
        Assert.Equal(("MTR-00000002", 3.5), (second.MeterId, second.PowerKw));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 11, 59, 50, TimeSpan.Zero), first.Timestamp);
    }

    [Fact]
    public void Should_name_the_field_and_reason_of_a_bad_record()
    {
        var error = Assert.Throws<InvalidDataException>(() => Read(Json("MTR-0001", 1.0)));
        Assert.StartsWith("meter_id: must match", error.Message);
        Assert.Throws<InvalidDataException>(() => _deserializer.Deserialize(default, true, default));
        Assert.ThrowsAny<Exception>(() => Read("{not json"));
    }

    [Fact]
    public void Should_refuse_a_record_stamped_beyond_the_clock_skew_as_ingestion_does()
    {
        var ahead = Json("MTR-00000001", 1.0).Replace("2026-12-01T11:59:50Z", "2026-12-01T12:04:00Z");

        var error = Assert.Throws<InvalidDataException>(() => Read(ahead));

        Assert.Equal("timestamp: must not be more than 30 seconds in the future", error.Message);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
