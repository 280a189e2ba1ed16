using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Tests.Simulation;

/// <summary>The default fleet is built once: every spec reads it, none changes it.</summary>
public sealed class DefaultFleetFixture
{
    public MeterFleet Fleet { get; } = MeterFleet.Create();
    public ReadingGenerator Generator { get; }

    public DefaultFleetFixture() => Generator = new ReadingGenerator(Fleet);
}

public class ReadingGeneratorSpecs(DefaultFleetFixture defaults) : IClassFixture<DefaultFleetFixture>
{
    // 2024-01-15 is a Monday; the fleet's customers live on India Standard Time.
    private static readonly TimeSpan Ist = new(5, 30, 0);
    private static readonly DateTimeOffset Midnight = new(2024, 1, 15, 0, 0, 0, Ist);

    private static ReadingGenerator Generator(SimulationOptions options) => new(MeterFleet.Create(options));

    [Fact]
    public void Should_build_the_seed_fleet_of_5000_numbered_meters_with_users()
    {
        IReadOnlyList<SimulatedMeter> meters = defaults.Fleet.Meters;

        Assert.Equal(5_000, meters.Count);
        Assert.Equal("MTR-00000001", meters[0].MeterId);
        Assert.Equal("MTR-00005000", meters[^1].MeterId);
        Assert.Equal("user-00000001", meters[0].UserId);
        Assert.Equal(meters.Count, meters.Select(m => m.MeterId).Distinct().Count());
        Assert.Same(meters[41], defaults.Fleet.Find("MTR-00000042"));
        Assert.Null(defaults.Fleet.Find("MTR-00005001"));
    }

    [Fact]
    public void Should_spread_meters_evenly_over_the_default_regions()
    {
        Dictionary<string, int> perRegion = defaults.Fleet.Meters.GroupBy(m => m.Region).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(Regions.Defaults.Select(r => r.Name).Order(), perRegion.Keys.Order());
        Assert.All(perRegion.Values, count => Assert.Equal(1_250, count));
    }

    [Fact]
    public void Should_mix_customer_types_by_the_configured_shares()
    {
        Dictionary<CustomerType, int> perType = defaults.Fleet.Meters.GroupBy(m => m.CustomerType).ToDictionary(g => g.Key, g => g.Count());

        Assert.InRange(perType[CustomerType.Residential], 4_050, 4_450); // 85 %
        Assert.InRange(perType[CustomerType.Commercial], 450, 750); // 12 %
        Assert.InRange(perType[CustomerType.Industrial], 80, 220); // 3 %
    }

    [Fact]
    public void Should_generate_identical_readings_from_the_same_seed()
    {
        DateTimeOffset tick = Midnight.AddHours(19);
        ReadingGenerator other = Generator(new SimulationOptions());

        Assert.Equal(defaults.Generator.ReadingsAt(tick), other.ReadingsAt(tick));
        Assert.NotEqual(defaults.Generator.ReadingsAt(tick), Generator(new SimulationOptions { Seed = 2 }).ReadingsAt(tick));
    }

    [Fact]
    public void Should_not_depend_on_the_order_ticks_are_generated_in()
    {
        DateTimeOffset[] ticks = Enumerable.Range(0, 12).Select(i => Midnight.AddMinutes(137 * i)).ToArray();
        IReadOnlyList<TelemetryReading>[] forward = ticks.Select(defaults.Generator.ReadingsAt).ToArray();

        var fresh = Generator(new SimulationOptions());
        var parallel = new IReadOnlyList<TelemetryReading>[ticks.Length];
        Parallel.For(0, ticks.Length, i => parallel[ticks.Length - 1 - i] = fresh.ReadingsAt(ticks[ticks.Length - 1 - i]));

        for (int i = 0; i < ticks.Length; i++)
        {
            Assert.Equal(forward[i], parallel[i]);
        }
    }

    [Fact]
    public void Should_give_a_single_meter_the_same_reading_as_the_fleet_tick()
    {
        DateTimeOffset tick = Midnight.AddHours(8).AddSeconds(30);
        IReadOnlyList<TelemetryReading> all = defaults.Generator.ReadingsAt(tick);

        foreach (TelemetryReading reading in all.Where((_, i) => i % 97 == 0))
        {
            SimulatedMeter meter = defaults.Fleet.Find(reading.MeterId)!;
            Assert.Equal(reading, defaults.Generator.ReadingAt(meter, tick));
        }
    }

    [Fact]
    public void Should_stamp_every_reading_with_the_tick_aligned_to_the_interval()
    {
        IReadOnlyList<TelemetryReading> readings = defaults.Generator.ReadingsAt(Midnight.AddSeconds(17.5));

        DateTimeOffset expected = new(2024, 1, 14, 18, 30, 10, TimeSpan.Zero);
        Assert.All(readings, r => Assert.Equal(expected, r.Timestamp));
        Assert.Equal(expected, defaults.Generator.AlignToTick(Midnight.AddSeconds(19.999)));
    }

    [Fact]
    public void Should_produce_only_readings_the_ingestion_accepts()
    {
        var validator = new ReadingValidator();
        foreach (int hour in new[] { 3, 13, 19 })
        {
            DateTimeOffset tick = Midnight.AddHours(hour);
            foreach (TelemetryReading reading in defaults.Generator.ReadingsAt(tick))
            {
                ReadingValidationResult result = validator.Validate(System.Text.Json.JsonSerializer.SerializeToElement(reading), tick);
                Assert.True(result.IsValid, $"{reading}: {string.Join("; ", result.Errors)}");
            }
        }
    }

    [Fact]
    public void Should_keep_voltage_frequency_and_power_factor_realistic()
    {
        // Sags, swells and drifts (issue 17) leave the spread on purpose: the meters in none.
        IReadOnlyList<TelemetryReading> readings = defaults.Generator.ReadingsAt(Midnight.AddHours(20))
            .Where(r => defaults.Generator.VoltageConditionAt(defaults.Fleet.Find(r.MeterId)!, Midnight.AddHours(20)) == MeterCondition.Normal
                        && !defaults.Generator.IsLastGasp(defaults.Fleet.Find(r.MeterId)!, Midnight.AddHours(20))).ToList();

        Assert.All(readings, r =>
        {
            Assert.InRange(r.Voltage, 230 * 0.97, 230 * 1.03);
            Assert.InRange(r.Frequency!.Value, 49.95, 50.05);
            Assert.InRange(r.PowerFactor!.Value, 0.85, 1.0);
            Assert.InRange(r.PowerKw, 0.001, 150);
        });
        Assert.InRange(readings.Average(r => r.Voltage), 228, 232);
        Assert.True(readings.Select(r => r.Voltage).Distinct().Count() > 50, "voltage should vary between meters");
    }

    [Fact]
    public void Should_report_current_consistent_with_power_voltage_and_power_factor()
    {
        // A last gasp (no power factor) draws nothing.
        foreach (TelemetryReading r in defaults.Generator.ReadingsAt(Midnight.AddHours(11)).Where(r => r.PowerFactor is not null))
        {
            double impliedKw = r.Voltage * r.Current * r.PowerFactor!.Value / 1000;

            // Current is rounded to 1 mA: 0.0005 A × 236.9 V × pf 1 ≈ 0.00012 kW.
            Assert.True(Math.Abs(impliedKw - r.PowerKw) <= 0.00012, $"{r}: V·I·pf = {impliedKw} kW");
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    [InlineData(60)]
    public void Should_report_energy_as_power_times_the_interval(int intervalSeconds)
    {
        ReadingGenerator generator = intervalSeconds == 10
            ? defaults.Generator
            : Generator(new SimulationOptions { MeterCount = 500, Interval = TimeSpan.FromSeconds(intervalSeconds) });

        foreach (TelemetryReading r in generator.ReadingsAt(Midnight.AddHours(18)))
        {
            // energy_kwh is rounded to 1 Wh/1000.
            Assert.True(Math.Abs(r.PowerKw * intervalSeconds / 3600.0 - r.EnergyKwh) <= 5e-7, r.ToString());
        }
    }

    [Fact]
    public void Should_follow_the_daily_curve_of_each_customer_type()
    {
        double Average(CustomerType type, int hour) => defaults.Generator.ReadingsAt(Midnight.AddHours(hour))
            .Where(r => defaults.Fleet.Find(r.MeterId)!.CustomerType == type)
            .Average(r => r.PowerKw);

        Assert.True(Average(CustomerType.Residential, 20) > 3 * Average(CustomerType.Residential, 3), "homes peak in the evening");
        Assert.True(Average(CustomerType.Residential, 8) > 2 * Average(CustomerType.Residential, 3), "homes have a morning peak");
        Assert.True(Average(CustomerType.Commercial, 11) > 5 * Average(CustomerType.Commercial, 23), "offices work by day");
        double industrialRatio = Average(CustomerType.Industrial, 11) / Average(CustomerType.Industrial, 3);
        Assert.InRange(industrialRatio, 1.0, 1.6); // flat-ish
    }

    [Fact]
    public void Should_shrink_only_the_day_load_on_a_weekend_so_a_closed_office_does_not_step_up_when_the_week_turns()
    {
        // On the customer's own clock (IST shifted by its CurveShift): Sunday 2024-01-14 and Monday 2024-01-15.
        DateTimeOffset OwnClock(SimulatedMeter meter, int day, int hour) => new DateTimeOffset(2024, 1, day, hour, 0, 0, Ist) - meter.CurveShift;
        SimulatedMeter office = defaults.Fleet.Meters.First(m => m.CustomerType == CustomerType.Commercial);
        double Share(DateTimeOffset at) => defaults.Generator.CurvePowerKw(office, at) / office.PeakKw;

        // Midnight: the office curve's night base 0.12 on both sides (before, Sunday's 0.35 × 0.12 = 0.042 stepped to 0.12,
        // a +186 % "spike" of every closed office in the minute it turned Monday).
        Assert.Equal(0.12, Share(OwnClock(office, 15, 0) - TimeSpan.FromSeconds(10)), 3);
        Assert.Equal(0.12, Share(OwnClock(office, 15, 0)), 3);
        // 11:00: the curve's 1.00 on Monday; on Sunday the base plus 35 % of the rest, 0.12 + 0.35 × 0.88 = 0.428.
        Assert.Equal(1.00, Share(OwnClock(office, 15, 11)), 3);
        Assert.Equal(0.428, Share(OwnClock(office, 14, 11)), 3);
    }

    [Fact]
    public void Should_load_smaller_regions_more_and_peak_in_the_evening()
    {
        Dictionary<string, double> LoadAt(int hour) => defaults.Generator.ReadingsAt(Midnight.AddHours(hour))
            .GroupBy(r => r.Region!)
            .ToDictionary(
                g => g.Key,
                g => RegionalLoad.LoadPercent(g.Sum(r => r.PowerKw), Regions.Defaults.Single(s => s.Name == g.Key).CapacityKw));

        Dictionary<string, double> evening = LoadAt(20);
        Dictionary<string, double> night = LoadAt(3);

        Assert.True(evening["Nashik"] > evening["Mumbai-Central"]);
        Assert.InRange(evening["Nashik"], 75, 100);
        Assert.All(Regions.Defaults, r => Assert.True(evening[r.Name] > 1.5 * night[r.Name], r.Name));
    }

    [Fact]
    public void Should_silence_a_meter_for_its_whole_outage()
    {
        var options = new SimulationOptions { MeterCount = 400, OutagesPerMeterPerDay = 48, OutageDuration = TimeSpan.FromMinutes(15) }; // p = 0.5
        ReadingGenerator generator = Generator(options);
        DateTimeOffset slotStart = new(2024, 1, 15, 6, 0, 0, TimeSpan.Zero);

        HashSet<string> silent = generator.Fleet.Meters
            .Where(m => generator.ConditionAt(m, slotStart) == MeterCondition.Outage)
            .Select(m => m.MeterId)
            .ToHashSet();

        Assert.InRange(silent.Count, 140, 260);
        for (int tick = 0; tick < 90; tick += 7)
        {
            IReadOnlyList<TelemetryReading> readings = generator.ReadingsAt(slotStart.AddSeconds(10 * tick));
            // Only the outage's first tick hears from a silent meter: its last gasp, a few volts and no power.
            var gasps = readings.Where(r => silent.Contains(r.MeterId)).ToList();
            Assert.Equal(400 - silent.Count, readings.Count - gasps.Count);
            Assert.All(gasps, r => Assert.True(tick == 0 && r.Voltage < 0.05 * 230 && r.PowerKw == 0, $"{r}"));
            if (tick == 0) Assert.NotEmpty(gasps);
        }
    }

    [Fact]
    public void Should_multiply_power_during_a_spike_and_divide_it_during_a_drop()
    {
        var quiet = new SimulationOptions { MeterCount = 300, NoisePercent = 0, SpikesPerMeterPerDay = 0, DropsPerMeterPerDay = 0, OutagesPerMeterPerDay = 0 };
        DateTimeOffset tick = Midnight.AddHours(12);
        IReadOnlyList<TelemetryReading> normal = Generator(quiet).ReadingsAt(tick);
        IReadOnlyList<TelemetryReading> spiking = Generator(quiet with { SpikesPerMeterPerDay = 288 }).ReadingsAt(tick); // p = 1
        IReadOnlyList<TelemetryReading> dropping = Generator(quiet with { DropsPerMeterPerDay = 288 }).ReadingsAt(tick);

        for (int i = 0; i < normal.Count; i++)
        {
            double usual = normal[i].PowerKw;
            Assert.InRange(spiking[i].PowerKw / usual, 2.19, 5.01);
            Assert.InRange(dropping[i].PowerKw / usual, 0.0, 0.46);
        }
    }

    [Fact]
    public void Should_raise_episodes_at_the_configured_daily_rates()
    {
        // Default rates: 0.2 spikes, 0.2 drops, 0.05 outages per meter per day; 5,000 meters
        // over 8 hours. The draws are seeded, so the counts are fixed; the ranges say "as configured".
        DateTimeOffset day = new(2024, 1, 15, 0, 0, 0, TimeSpan.Zero);
        var counts = new Dictionary<MeterCondition, int>();
        foreach (SimulatedMeter meter in defaults.Fleet.Meters)
        {
            for (int slot = 0; slot < 96; slot++) // 5-minute slots; outages last 15 minutes = 3 slots
            {
                MeterCondition condition = defaults.Generator.ConditionAt(meter, day.AddMinutes(5 * slot));
                counts[condition] = counts.GetValueOrDefault(condition) + 1;
            }
        }

        Assert.InRange(counts[MeterCondition.Outage] / 3.0, 60, 110); // expected 83
        Assert.InRange(counts[MeterCondition.Spike], 270, 400); // expected 333
        Assert.InRange(counts[MeterCondition.Drop], 270, 400);
    }

    [Fact]
    public void Should_refuse_options_that_cannot_make_a_fleet()
    {
        Assert.Throws<ArgumentException>(() => MeterFleet.Create(new SimulationOptions { MeterCount = 0 }));
        Assert.Throws<ArgumentException>(() => MeterFleet.Create(new SimulationOptions { MeterCount = 100_000_000 }));
        Assert.Throws<ArgumentException>(() => MeterFleet.Create(new SimulationOptions { Regions = [] }));
        Assert.Throws<ArgumentException>(() => MeterFleet.Create(new SimulationOptions { ResidentialShare = 0.9, CommercialShare = 0.2 }));
        Assert.Throws<ArgumentException>(() => MeterFleet.Create(new SimulationOptions { Interval = TimeSpan.Zero }));
    }

    /// <summary>
    /// What a tick is, whatever it costs (its speed is measured by `./build.sh bench generator`):
    /// one reading from each meter of the default fleet that is not in an outage, in meter order.
    /// </summary>
    [Fact]
    public void Should_give_one_reading_a_tick_to_every_meter_of_the_fleet_not_in_an_outage_or_at_its_last_gasp_in_meter_order()
    {
        DateTimeOffset hour = new(2024, 1, 15, 1, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < 50; i++)
        {
            DateTimeOffset tick = hour.AddSeconds(10 * i);
            IReadOnlyList<TelemetryReading> readings = defaults.Generator.ReadingsAt(tick);

            string[] reporting = defaults.Fleet.Meters
                .Where(m => defaults.Generator.ConditionAt(m, tick) != MeterCondition.Outage || defaults.Generator.IsLastGasp(m, tick))
                .Select(m => m.MeterId)
                .ToArray();
            Assert.InRange(reporting.Length, 4_900, 5_000);
            Assert.Equal(reporting, readings.Select(r => r.MeterId));
        }
    }
}
