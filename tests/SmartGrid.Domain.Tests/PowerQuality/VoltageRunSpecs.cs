using SmartGrid.Domain.Metering;
using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.PowerQuality;

/// <summary>
/// Sags, swells and interruptions as a meter decides them from its readings (EN 50160 bands on the
/// region's nominal voltage), driven the way MeterBucket drives a meter's state: decide, then apply.
/// </summary>
public class VoltageRunSpecs
{
    private const string Meter = "MTR-00000001";
    private static readonly MeterPolicy Policy = new() { AllowedLateness = TimeSpan.FromMinutes(1) };

    /// <summary>Feeds each batch; returns every voltage event observed, in order.</summary>
    private static List<VoltageEvent> Feed(MeterState state, MeterPolicy policy, params TelemetryReading[][] batches)
    {
        var observed = new List<VoltageEvent>();
        foreach (var batch in batches)
        {
            foreach (var e in state.Decide(batch, idle: false, policy))
            {
                if (e is ReadingsAccepted r) state.Apply(r, policy);
                if (e is WindowsEmitted w) state.Apply(w, policy);
                if (e is VoltageEventsObserved v) observed.AddRange(v.Events);
            }
        }
        return observed;
    }

    /// <summary>What the projection keeps: the last version of each (meter, start).</summary>
    private static List<VoltageEvent> Stored(IEnumerable<VoltageEvent> observed) =>
        observed.GroupBy(e => (e.MeterId, e.Start)).Select(g => g.Last()).OrderBy(e => e.Start).ToList();

    private static TelemetryReading[] Volts(params double[] voltages) =>
        voltages.Select((v, i) => Reading(Noon.AddSeconds(10 * i), voltage: v)).ToArray();

    private static DateTimeOffset At(int index) => Noon.AddSeconds(10 * index);

    [Fact]
    public void Should_report_a_sag_from_its_first_reading_below_90_percent_to_the_first_reading_back_in_band()
    {
        // 207 V is exactly 90 % of 230 V: inside the band, so the sag is the three readings 206, 195, 205.
        var observed = Feed(new MeterState(Meter), Policy, Volts(230, 207, 206, 195, 205, 229, 230));

        Assert.Equal(
            [new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(2), null, 206, 230),
             new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(2), At(5), 195, 230)],
            observed);
    }

    [Fact]
    public void Should_call_a_low_run_an_interruption_once_a_reading_falls_below_5_percent()
    {
        // 11.5 V is 5 % of 230 V; 12 is a deep sag, 3 an interruption, and the run is one event.
        var stored = Stored(Feed(new MeterState(Meter), Policy, Volts(230, 150, 12, 3, 0, 180, 231)));

        Assert.Equal([new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Interruption, At(1), At(6), 0, 230)], stored);
    }

    [Fact]
    public void Should_tell_a_sag_that_deepens_into_an_interruption_at_once_for_a_meter_that_never_reports_again()
    {
        // A sag at 150 V, then the last gasp: nothing ends the run, and the open event must not stay a sag.
        var observed = Feed(new MeterState(Meter), Policy, Volts(230, 150, 140, 2));

        Assert.Equal(
            [new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(1), null, 150, 230),
             new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Interruption, At(1), null, 2, 230)],
            observed);
    }

    [Fact]
    public void Should_end_a_sag_and_start_a_swell_at_a_reading_that_jumps_across_the_band()
    {
        var stored = Stored(Feed(new MeterState(Meter), Policy, Volts(230, 150, 260, 254, 230)));

        Assert.Equal(
            [new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(1), At(2), 150, 230),
             new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Swell, At(2), At(4), 260, 230)],
            stored);
    }

    [Fact]
    public void Should_measure_against_the_nominal_voltage_of_the_meters_region()
    {
        var american = Policy with { NominalVoltage = region => region == "Pune-West" ? 120 : 230 };

        // 120 V nominal: 107 V is below 90 % (108 V), 133 V above 110 % (132 V); 230 V would be a swell.
        var stored = Stored(Feed(new MeterState(Meter), american, Volts(120, 107, 120, 133, 120)));

        Assert.Equal(
            [new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(1), At(2), 107, 120),
             new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Swell, At(3), At(4), 133, 120)],
            stored);
    }

    [Fact]
    public void Should_count_an_out_of_order_reading_in_its_window_but_not_in_the_runs()
    {
        var state = new MeterState(Meter);
        var inOrder = Volts(230, 231, 229, 230);
        var late = Reading(At(1).AddSeconds(5), voltage: 100);

        var observed = Feed(state, Policy, inOrder, [late]);

        Assert.Empty(observed);
        var minute = state.Windows.Single(w => w.Aggregate.Size == WindowSize.OneMinute && w.Aggregate.WindowStart == Noon).Aggregate;
        Assert.Equal((5, 100.0, 231.0), (minute.ReadingCount, minute.VoltageMin, minute.VoltageMax));
    }

    [Fact]
    public void Should_decide_the_same_events_whether_readings_come_one_by_one_or_in_one_batch()
    {
        var readings = Volts(230, 200, 190, 230, 250, 255, 10, 0, 230, 231);

        var together = Feed(new MeterState(Meter), Policy, readings);
        var oneByOne = Feed(new MeterState(Meter), Policy, readings.Select(r => new[] { r }).ToArray());

        Assert.Equal(Stored(together), Stored(oneByOne));
        Assert.Equal(3, Stored(together).Count);
    }

    [Fact]
    public void Should_ignore_a_replayed_reading_of_a_run()
    {
        var state = new MeterState(Meter);
        var readings = Volts(230, 200, 195, 230);

        var first = Feed(state, Policy, readings[..3]);
        var replayed = Feed(state, Policy, readings[..3], readings[3..]);

        Assert.Equal([new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(1), At(3), 195, 230)], Stored(first.Concat(replayed)));
        Assert.Single(replayed);
    }

    [Fact]
    public void Should_keep_an_open_run_across_a_snapshot()
    {
        var state = new MeterState(Meter);
        Feed(state, Policy, Volts(230, 200, 190));

        var restored = MeterState.FromSnapshot(state.ToSnapshot());
        var ended = Feed(restored, Policy, [Reading(At(3), voltage: 185), Reading(At(4), voltage: 230)]);

        Assert.Equal([new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(1), At(4), 185, 230)], ended);
        Assert.Equal(new VoltageEvent(Meter, "Pune-West", VoltageEventKind.Sag, At(1), null, 190, 230), state.OpenVoltageEvent(Policy));
    }
}
