using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage.Tests;

internal static class TestData
{
    /// <summary>
    /// A meter window built the domain's way, from one reading per power value
    /// (voltage 230, current 10; power factor and frequency on every other reading).
    /// </summary>
    public static WindowAggregate Window(string meterId, WindowSize size, DateTimeOffset start, params double[] powers)
    {
        var window = WindowAggregate.Empty(meterId, "Pune-West", size, start);
        for (var i = 0; i < powers.Length; i++)
        {
            window = window.Add(new TelemetryReading
            {
                MeterId = meterId,
                Timestamp = start.AddSeconds(i),
                Voltage = 230,
                Current = 10,
                PowerKw = powers[i],
                EnergyKwh = powers[i] / 360,
                PowerFactor = i % 2 == 0 ? 0.9 : null,
                Frequency = i % 2 == 0 ? 50.02 : null,
            });
        }
        return window;
    }

    public static RegionalAggregate Regional(string region, WindowSize size, DateTimeOffset start, int meters, double totalKw) => new()
    {
        Region = region,
        Size = size,
        WindowStart = start,
        MeterCount = meters,
        TotalPowerKw = totalKw,
        EnergyKwhSum = totalKw / 4,
        ReadingCount = meters * 90,
        CapacityKw = 3000,
        LoadPercent = RegionalLoad.LoadPercent(totalKw, 3000),
    };
}
