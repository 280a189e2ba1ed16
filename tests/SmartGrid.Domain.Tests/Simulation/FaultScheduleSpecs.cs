using SmartGrid.Domain.Simulation;

namespace SmartGrid.Domain.Tests.Simulation;

public class FaultScheduleSpecs
{
    private static readonly DateTimeOffset From = new(2024, 1, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddHours(6);

    private static ReadingGenerator Generator(long seed = 1, int meters = 400) =>
        new(MeterFleet.Create(new SimulationOptions { Seed = seed, MeterCount = meters }));

    [Fact]
    public void Should_list_exactly_the_ticks_whose_readings_show_a_fault()
    {
        var generator = Generator();
        var faults = FaultSchedule.Between(generator, From, To);
        var interval = generator.Fleet.Options.Interval;

        Assert.NotEmpty(faults);
        Assert.Contains(faults, f => f.Kind == MeterCondition.Outage);
        Assert.Contains(faults, f => f.Kind == MeterCondition.Spike);
        Assert.Contains(faults, f => f.Kind == MeterCondition.Drop);
        var byMeter = faults.ToLookup(f => f.MeterId);
        foreach (var meter in generator.Fleet.Meters)
        {
            for (var tick = From; tick < To; tick += interval)
            {
                var fault = byMeter[meter.MeterId].SingleOrDefault(f => f.Start <= tick && tick < f.End);
                Assert.Equal(generator.ConditionAt(meter, tick), fault?.Kind ?? MeterCondition.Normal);
                // An outage is a meter that sends nothing but its last gasp; every other tick has its reading. (Before
                // issue 17 an outage sent nothing at all: the last gasp is new, on purpose.)
                var reading = generator.ReadingAt(meter, tick);
                Assert.Equal(fault?.Kind == MeterCondition.Outage && !generator.IsLastGasp(meter, tick), reading is null);
                if (generator.IsLastGasp(meter, tick)) Assert.True(reading!.Voltage < 0.05 * 230, $"{reading}");
            }
        }
    }

    [Fact]
    public void Should_list_the_voltage_faults_the_readings_show()
    {
        var generator = Generator();
        var faults = FaultSchedule.VoltageBetween(generator, From, To);
        var interval = generator.Fleet.Options.Interval;

        Assert.Contains(faults, f => f.Kind == MeterCondition.Sag);
        Assert.Contains(faults, f => f.Kind == MeterCondition.Swell);
        Assert.Contains(faults, f => f.Kind == MeterCondition.Drift);
        var byMeter = faults.ToLookup(f => f.MeterId);
        foreach (var meter in generator.Fleet.Meters)
            for (var tick = From; tick < To; tick += interval)
            {
                var kind = byMeter[meter.MeterId].SingleOrDefault(f => f.Start <= tick && tick < f.End)?.Kind;
                if (generator.ReadingAt(meter, tick) is not { } r || generator.ConditionAt(meter, tick) == MeterCondition.Outage) continue;
                // The EN 50160 bands of 230 V: a sag below 90 %, a swell above 110 %; a drift of −12 % to +10 % (plus the
                // moment's fluctuation) may cross them for hours, and nothing else leaves them.
                if (kind == MeterCondition.Drift)
                {
                    Assert.True(Math.Abs(r.Voltage - 230) > 230 * 0.04, $"{r}");
                    continue;
                }
                Assert.Equal(kind == MeterCondition.Sag, r.Voltage < 207);
                Assert.Equal(kind == MeterCondition.Swell, r.Voltage > 253);
            }
        Assert.True(FaultSchedule.Between(generator, From, To).Any(f => f.Kind == MeterCondition.Outage && generator.IsLastGasp(
            generator.Fleet.Find(f.MeterId)!, f.Start)), "no outage with a last gasp");
    }

    [Fact]
    public void Should_merge_back_to_back_ticks_into_one_fault_and_clip_to_the_span()
    {
        var faults = FaultSchedule.Between(Generator(), From, To);

        Assert.All(faults, f => Assert.True(f.Start >= From && f.End <= To && f.Start < f.End));
        foreach (var meter in faults.GroupBy(f => f.MeterId))
        {
            var ordered = meter.OrderBy(f => f.Start).ToList();
            for (var i = 1; i < ordered.Count; i++)
                Assert.False(ordered[i - 1].End == ordered[i].Start && ordered[i - 1].Kind == ordered[i].Kind, "adjacent faults of one kind were not merged");
        }
    }

    [Fact]
    public void Should_come_out_the_same_from_the_same_seed_and_differ_with_another()
    {
        var once = FaultSchedule.Between(Generator(seed: 7), From, To).Select(f => f.ToLine()).ToList();
        var again = FaultSchedule.Between(Generator(seed: 7), From, To).Select(f => f.ToLine()).ToList();
        var other = FaultSchedule.Between(Generator(seed: 8), From, To).Select(f => f.ToLine()).ToList();

        Assert.Equal(once, again);
        Assert.NotEqual(once, other);
        Assert.Matches(@"^MTR-\d{8}\t[^\t]+\t(spike|drop|outage)\t\S+\t\S+$", once[0]);
    }
}
