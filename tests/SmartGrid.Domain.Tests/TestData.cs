using System.Text.Json;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Tests;

internal static class TestData
{
    public static readonly DateTimeOffset Noon = new(2024, 1, 15, 12, 0, 0, TimeSpan.Zero);

    public static TelemetryReading Reading(
        DateTimeOffset at,
        double powerKw = 1.0,
        string meterId = "MTR-00000001",
        double voltage = 230,
        double current = 5,
        double energyKwh = 0.01,
        double? powerFactor = 0.95,
        double? frequency = 50,
        string? region = "Pune-West") =>
        new()
        {
            MeterId = meterId,
            Timestamp = at,
            Voltage = voltage,
            Current = current,
            PowerKw = powerKw,
            EnergyKwh = energyKwh,
            PowerFactor = powerFactor,
            Frequency = frequency,
            Region = region,
        };

    public static JsonElement Json(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static void AssertClose(double expected, double actual, double relative = 1e-9)
    {
        double tolerance = Math.Max(Math.Abs(expected), Math.Abs(actual)) * relative + 1e-12;
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected:R}, got {actual:R}");
    }
}

/// <summary>A clock that stands still, for code that takes a TimeProvider.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
