using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Grid;

public class RegionalLoadSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 14, 30, 0, TimeSpan.Zero);

    private static WindowAggregate MeterWindow(string meterId, params double[] powers)
    {
        WindowAggregate window = WindowAggregate.Empty(meterId, "Nashik", WindowSize.OneMinute, Start);
        for (int i = 0; i < powers.Length; i++)
        {
            window = window.Add(Reading(Start.AddSeconds(10 * i), powerKw: powers[i], meterId: meterId, energyKwh: powers[i] / 360));
        }

        return window;
    }

    [Theory]
    [InlineData(3000, 4000, 75)]
    [InlineData(0, 2500, 0)]
    [InlineData(2750, 2500, 110)] // not capped: overload must be visible
    public void Should_express_load_as_percent_of_capacity(double powerKw, double capacityKw, double expected)
    {
        Assert.Equal(expected, RegionalLoad.LoadPercent(powerKw, capacityKw));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Should_refuse_a_capacity_that_is_not_positive(double capacityKw)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RegionalLoad.LoadPercent(100, capacityKw));
    }

    [Fact]
    public void Should_sum_the_meters_average_power_into_regional_load()
    {
        WindowAggregate[] windows =
        [
            MeterWindow("MTR-00000001", 2, 2, 2, 2, 2, 2),
            MeterWindow("MTR-00000002", 4),
            MeterWindow("MTR-00000003", 1, 3),
        ];

        RegionalAggregate regional = RegionalAggregate.From("Nashik", WindowSize.OneMinute, Start, 8, windows);

        Assert.Equal("Nashik", regional.Region);
        Assert.Equal(Start.AddMinutes(1), regional.WindowEnd);
        Assert.Equal(3, regional.MeterCount);
        Assert.Equal(8, regional.TotalPowerKw); // 2 + 4 + 2, whatever each meter's reading count
        Assert.Equal(8.0 / 3, regional.AvgPowerKw);
        Assert.Equal(9, regional.ReadingCount);
        AssertClose(windows.Sum(w => w.EnergyKwhSum), regional.EnergyKwhSum);
        Assert.Equal(100, regional.LoadPercent);
        Assert.Equal(8, regional.CapacityKw);
    }

    [Fact]
    public void Should_refuse_a_meter_counted_twice_or_a_foreign_window()
    {
        Assert.Throws<ArgumentException>(() => RegionalAggregate.From(
            "Nashik", WindowSize.OneMinute, Start, 100, [MeterWindow("MTR-00000001", 1), MeterWindow("MTR-00000001", 2)]));
        Assert.Throws<ArgumentException>(() => RegionalAggregate.From(
            "Nashik", WindowSize.OneMinute, Start.AddMinutes(1), 100, [MeterWindow("MTR-00000001", 1)]));
        Assert.Throws<ArgumentException>(() => RegionalAggregate.From(
            "Nashik", WindowSize.FifteenMinutes, Start, 100, [MeterWindow("MTR-00000001", 1)]));
    }

    [Fact]
    public void Should_report_an_empty_region_as_zero_load()
    {
        RegionalAggregate regional = RegionalAggregate.From(
            "Nashik", WindowSize.FifteenMinutes, Start, 2500,
            [WindowAggregate.Empty("MTR-00000001", "Nashik", WindowSize.FifteenMinutes, Start)]);

        Assert.Equal(0, regional.MeterCount);
        Assert.Equal(0, regional.AvgPowerKw);
        Assert.Equal(0, regional.LoadPercent);
    }
}
