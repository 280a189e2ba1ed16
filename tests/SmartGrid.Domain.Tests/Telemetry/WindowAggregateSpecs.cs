using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Telemetry;

public class WindowAggregateSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 14, 30, 0, TimeSpan.Zero);

    private static WindowAggregate Aggregate(IEnumerable<TelemetryReading> readings, WindowSize size)
    {
        WindowAggregate? aggregate = null;
        foreach (TelemetryReading reading in readings)
        {
            aggregate = aggregate is null ? WindowAggregate.Of(reading, size) : aggregate.Add(reading);
        }

        return aggregate ?? throw new InvalidOperationException("no readings");
    }

    /// <summary>Irregular but reproducible readings every 10 s, some without the optional fields.</summary>
    private static List<TelemetryReading> Quarter(int seed)
    {
        var random = new Random(seed);
        var readings = new List<TelemetryReading>();
        for (int i = 0; i < 90; i++)
        {
            readings.Add(Reading(
                Start.AddSeconds(10 * i),
                powerKw: Math.Round(random.NextDouble() * 5, 3),
                voltage: 220 + random.NextDouble() * 20,
                current: random.NextDouble() * 20,
                energyKwh: random.NextDouble() / 100,
                powerFactor: i % 7 == 0 ? null : 0.85 + random.NextDouble() * 0.15,
                frequency: i % 5 == 0 ? null : 49.95 + random.NextDouble() / 10));
        }

        return readings;
    }

    [Fact]
    public void Should_compute_count_sums_min_max_and_averages()
    {
        WindowAggregate aggregate = Aggregate(
        [
            Reading(Start.AddSeconds(0), powerKw: 2, voltage: 230, current: 10, energyKwh: 0.1, powerFactor: 0.9, frequency: 50),
            Reading(Start.AddSeconds(10), powerKw: 4, voltage: 232, current: 20, energyKwh: 0.2, powerFactor: 1.0, frequency: 50.5),
            Reading(Start.AddSeconds(20), powerKw: 0.5, voltage: 228, current: 3, energyKwh: 0.05, powerFactor: null, frequency: null),
        ], WindowSize.OneMinute);

        Assert.Equal("MTR-00000001", aggregate.MeterId);
        Assert.Equal("Pune-West", aggregate.Region);
        Assert.Equal(Start, aggregate.WindowStart);
        Assert.Equal(Start.AddMinutes(1), aggregate.WindowEnd);
        Assert.Equal(3, aggregate.ReadingCount);
        AssertClose(0.35, aggregate.EnergyKwhSum);
        Assert.Equal(6.5, aggregate.PowerKwSum);
        Assert.Equal(0.5, aggregate.PowerKwMin);
        Assert.Equal(4, aggregate.PowerKwMax);
        AssertClose(6.5 / 3, aggregate.PowerKwAvg);
        Assert.Equal(230, aggregate.VoltageAvg);
        Assert.Equal(11, aggregate.CurrentAvg);
        Assert.Equal(2, aggregate.PowerFactorCount);
        AssertClose(0.95, aggregate.PowerFactorAvg!.Value);
        Assert.Equal(2, aggregate.FrequencyCount);
        Assert.Equal(50.25, aggregate.FrequencyAvg);
    }

    [Fact]
    public void Should_report_no_power_factor_average_when_no_reading_had_one()
    {
        WindowAggregate aggregate = WindowAggregate.Of(Reading(Start, powerFactor: null, frequency: null), WindowSize.OneMinute);

        Assert.Null(aggregate.PowerFactorAvg);
        Assert.Null(aggregate.FrequencyAvg);
        Assert.Equal(0, aggregate.PowerFactorCount);
    }

    [Fact]
    public void Should_sum_in_reading_order_so_sums_can_be_recomputed_exactly()
    {
        List<TelemetryReading> readings = Quarter(seed: 7);

        WindowAggregate aggregate = Aggregate(readings, WindowSize.FifteenMinutes);

        double power = 0, energy = 0, voltage = 0;
        foreach (TelemetryReading r in readings)
        {
            power += r.PowerKw;
            energy += r.EnergyKwh;
            voltage += r.Voltage;
        }

        Assert.Equal(power, aggregate.PowerKwSum);
        Assert.Equal(energy, aggregate.EnergyKwhSum);
        Assert.Equal(voltage, aggregate.VoltageSum);
        Assert.Equal(readings.Min(r => r.PowerKw), aggregate.PowerKwMin);
        Assert.Equal(readings.Max(r => r.PowerKw), aggregate.PowerKwMax);
    }

    [Fact]
    public void Should_merge_one_minute_windows_into_the_aggregate_over_all_their_readings()
    {
        List<TelemetryReading> readings = Quarter(seed: 42);
        WindowAggregate direct = Aggregate(readings, WindowSize.FifteenMinutes);

        WindowAggregate merged = readings
            .GroupBy(r => Window.Floor(r.Timestamp, WindowSize.OneMinute))
            .Select(minute => Aggregate(minute, WindowSize.OneMinute))
            .Aggregate(
                WindowAggregate.Empty("MTR-00000001", "Pune-West", WindowSize.FifteenMinutes, Start),
                (quarter, minute) => quarter.Merge(minute));

        Assert.Equal(WindowSize.FifteenMinutes, merged.Size);
        Assert.Equal(direct.WindowStart, merged.WindowStart);
        Assert.Equal(direct.ReadingCount, merged.ReadingCount);
        Assert.Equal(direct.PowerKwMin, merged.PowerKwMin);
        Assert.Equal(direct.PowerKwMax, merged.PowerKwMax);
        Assert.Equal(direct.PowerFactorCount, merged.PowerFactorCount);
        Assert.Equal(direct.FrequencyCount, merged.FrequencyCount);
        AssertClose(direct.EnergyKwhSum, merged.EnergyKwhSum);
        AssertClose(direct.PowerKwSum, merged.PowerKwSum);
        AssertClose(direct.PowerKwAvg, merged.PowerKwAvg);
        AssertClose(direct.VoltageAvg, merged.VoltageAvg);
        AssertClose(direct.CurrentAvg, merged.CurrentAvg);
        AssertClose(direct.PowerFactorAvg!.Value, merged.PowerFactorAvg!.Value);
        AssertClose(direct.FrequencyAvg!.Value, merged.FrequencyAvg!.Value);
    }

    [Fact]
    public void Should_merge_two_partial_aggregates_of_one_window_into_the_aggregate_of_the_union()
    {
        List<TelemetryReading> readings = Quarter(seed: 3).Take(6).ToList();
        WindowAggregate all = Aggregate(readings, WindowSize.OneMinute);

        WindowAggregate merged = Aggregate(readings.Where((_, i) => i % 2 == 0), WindowSize.OneMinute)
            .Merge(Aggregate(readings.Where((_, i) => i % 2 == 1), WindowSize.OneMinute));

        Assert.Equal(all.ReadingCount, merged.ReadingCount);
        Assert.Equal(all.PowerKwMin, merged.PowerKwMin);
        Assert.Equal(all.PowerKwMax, merged.PowerKwMax);
        AssertClose(all.PowerKwSum, merged.PowerKwSum);
        AssertClose(all.EnergyKwhSum, merged.EnergyKwhSum);
        AssertClose(all.CurrentSum, merged.CurrentSum);
    }

    [Fact]
    public void Should_take_min_and_max_from_the_first_non_empty_window_merged_into_an_empty_one()
    {
        WindowAggregate minute = WindowAggregate.Of(Reading(Start.AddMinutes(3), powerKw: 7), WindowSize.OneMinute);

        WindowAggregate quarter = WindowAggregate.Empty("MTR-00000001", "Pune-West", WindowSize.FifteenMinutes, Start).Merge(minute);

        Assert.Equal(7, quarter.PowerKwMin);
        Assert.Equal(7, quarter.PowerKwMax);
        Assert.Same(quarter, quarter.Merge(WindowAggregate.Empty("MTR-00000001", "Pune-West", WindowSize.OneMinute, Start)));
    }

    [Fact]
    public void Should_leave_the_original_unchanged_when_adding()
    {
        WindowAggregate before = WindowAggregate.Of(Reading(Start, powerKw: 1), WindowSize.OneMinute);

        WindowAggregate after = before.Add(Reading(Start.AddSeconds(10), powerKw: 3));

        Assert.Equal(1, before.ReadingCount);
        Assert.Equal(1, before.PowerKwMax);
        Assert.Equal(2, after.ReadingCount);
        Assert.Equal(3, after.PowerKwMax);
    }

    [Fact]
    public void Should_refuse_a_reading_outside_the_window_or_of_another_meter()
    {
        WindowAggregate aggregate = WindowAggregate.Of(Reading(Start), WindowSize.OneMinute);

        Assert.Throws<ArgumentOutOfRangeException>(() => aggregate.Add(Reading(Start.AddMinutes(1))));
        Assert.Throws<ArgumentOutOfRangeException>(() => aggregate.Add(Reading(Start.AddTicks(-1))));
        Assert.Throws<ArgumentException>(() => aggregate.Add(Reading(Start.AddSeconds(10), meterId: "MTR-00000002")));
    }

    [Fact]
    public void Should_refuse_to_merge_a_window_that_does_not_fit()
    {
        WindowAggregate quarter = WindowAggregate.Empty("MTR-00000001", "Pune-West", WindowSize.FifteenMinutes, Start);

        Assert.Throws<ArgumentOutOfRangeException>(() => quarter.Merge(WindowAggregate.Of(Reading(Start.AddMinutes(15)), WindowSize.OneMinute)));
        Assert.Throws<ArgumentException>(() => quarter.Merge(WindowAggregate.Of(Reading(Start, meterId: "MTR-00000002"), WindowSize.OneMinute)));
        WindowAggregate minute = WindowAggregate.Of(Reading(Start), WindowSize.OneMinute);
        Assert.Throws<ArgumentOutOfRangeException>(() => minute.Merge(quarter.Merge(minute)));
    }

    [Fact]
    public void Should_keep_the_region_the_window_was_created_with()
    {
        WindowAggregate aggregate = WindowAggregate.Of(Reading(Start, region: null), WindowSize.OneMinute)
            .Add(Reading(Start.AddSeconds(10), region: "Nashik"));

        Assert.Equal(Regions.Unassigned, aggregate.Region);
        Assert.Equal("Nashik", WindowAggregate.Of(Reading(Start, region: "Pune-West"), WindowSize.OneMinute, region: "Nashik").Region);
    }

    [Fact]
    public void Should_refuse_an_empty_window_that_does_not_start_on_a_boundary()
    {
        Assert.Throws<ArgumentException>(() => WindowAggregate.Empty("MTR-00000001", "Pune-West", WindowSize.FifteenMinutes, Start.AddMinutes(1)));
    }
}
