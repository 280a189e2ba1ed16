using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Reliability;

/// <summary>
/// Customer interruptions as a meter decides them from its readings, driven the way MeterBucket drives
/// its state (decide, then apply), and checked against <see cref="CustomerInterruptions.Find"/> on the same readings.
/// </summary>
public class MeterInterruptionSpecs
{
    private const string Meter = "MTR-00000001";
    private static readonly MeterPolicy Policy = new() { AllowedLateness = TimeSpan.FromMinutes(1) };

    private static List<CustomerInterruptionsObserved> Feed(MeterState state, params TelemetryReading[][] batches)
    {
        var observed = new List<CustomerInterruptionsObserved>();
        foreach (var batch in batches)
            foreach (var e in state.Decide(batch, idle: false, Policy))
            {
                if (e is ReadingsAccepted r) state.Apply(r, Policy);
                if (e is WindowsEmitted w) state.Apply(w, Policy);
                if (e is CustomerInterruptionsObserved i) observed.Add(i);
            }
        return observed;
    }

    /// <summary>What the projection keeps: the last version of each (meter, start).</summary>
    private static List<CustomerInterruption> Stored(IEnumerable<CustomerInterruptionsObserved> observed) =>
        observed.SelectMany(o => o.Interruptions).GroupBy(i => (i.MeterId, i.Start)).Select(g => g.Last()).OrderBy(i => i.Start).ToList();

    private static TelemetryReading At(int seconds, double volts) => Reading(Noon.AddSeconds(seconds), voltage: volts);

    [Fact]
    public void Should_open_at_the_last_gasp_and_close_at_the_first_reading_above_90_percent()
    {
        var state = new MeterState(Meter);
        var observed = Feed(state, [At(0, 230), At(10, 231), At(20, 0)], [At(300, 150), At(310, 207)], [At(320, 208), At(330, 230)]);

        // Written when it starts and again when it ends, with the meter's region.
        Assert.Equal(
            [new CustomerInterruption(Meter, Noon.AddSeconds(20), null, InterruptionStart.LastGasp),
             new CustomerInterruption(Meter, Noon.AddSeconds(20), Noon.AddSeconds(320), InterruptionStart.LastGasp)],
            observed.SelectMany(o => o.Interruptions));
        Assert.All(observed, o => Assert.Equal("Pune-West", o.Region));
        Assert.Null(state.OpenInterruption);
        Assert.Equal(TimeSpan.FromSeconds(10), state.ReportingInterval);
    }

    [Fact]
    public void Should_start_a_silent_meters_interruption_one_learned_interval_after_its_last_reading()
    {
        // A 15-second meter: silent after 00:30, back at 10:00 at full voltage.
        var observed = Feed(new MeterState(Meter), [At(0, 230), At(15, 230), At(30, 229)], [At(600, 231), At(615, 230)]);

        Assert.Equal([new CustomerInterruption(Meter, Noon.AddSeconds(45), Noon.AddSeconds(600), InterruptionStart.Silence)], Stored(observed));
        // Started and ended by the same reading: written once, ended.
        Assert.Single(observed.SelectMany(o => o.Interruptions));
    }

    [Fact]
    public void Should_keep_a_silent_meter_that_comes_back_low_interrupted()
    {
        var state = new MeterState(Meter);
        var observed = Feed(state, [At(0, 230), At(10, 230)], [At(400, 120)]);

        Assert.Equal([new CustomerInterruption(Meter, Noon.AddSeconds(20), null, InterruptionStart.Silence)], Stored(observed));
        Assert.Equal(new CustomerInterruption(Meter, Noon.AddSeconds(20), null, InterruptionStart.Silence), state.OpenInterruption);
    }

    [Fact]
    public void Should_not_take_one_missed_reading_nor_a_late_reading_for_an_outage()
    {
        // 20 s is two intervals (one lost message); 00:40 arrives after 00:50 and feeds no run.
        var observed = Feed(new MeterState(Meter), [At(0, 230), At(10, 230), At(30, 230), At(50, 230), At(40, 0), At(60, 230)]);

        Assert.Empty(observed);
    }

    [Fact]
    public void Should_decide_the_same_interruptions_from_a_snapshot_and_from_a_replay_with_duplicates()
    {
        TelemetryReading[] first = [At(0, 230), At(10, 230), At(20, 3)];
        TelemetryReading[] second = [At(200, 231), At(210, 230), At(1_000, 229), At(1_010, 1), At(1_020, 0)];
        var whole = new MeterState(Meter);
        var all = Feed(whole, first, second);

        var before = new MeterState(Meter);
        Feed(before, first);
        var recovered = MeterState.FromSnapshot(before.ToSnapshot());
        // The replay re-sends what the snapshot holds: duplicates, which decide nothing.
        var after = Feed(recovered, first, second);

        Assert.Equal(Stored(all), Stored(after));
        Assert.Equal(
            [new CustomerInterruption(Meter, Noon.AddSeconds(20), Noon.AddSeconds(200), InterruptionStart.LastGasp),
             new CustomerInterruption(Meter, Noon.AddSeconds(220), Noon.AddSeconds(1_000), InterruptionStart.Silence),
             new CustomerInterruption(Meter, Noon.AddSeconds(1_010), null, InterruptionStart.LastGasp)],
            Stored(all));
        Assert.Equal(whole.OpenInterruption, recovered.OpenInterruption);
        Assert.Equal(whole.ReportingInterval, recovered.ReportingInterval);
    }

    [Fact]
    public void Should_agree_with_the_offline_rule_on_the_same_readings()
    {
        var random = new Random(17);
        var readings = new List<(DateTimeOffset, double)>();
        var t = 0;
        for (var i = 0; i < 2_000; i++)
        {
            t += random.NextDouble() < 0.01 ? random.Next(30, 900) : 10;
            var roll = random.NextDouble();
            readings.Add((Noon.AddSeconds(t), roll < 0.01 ? 0 : roll < 0.03 ? 150 : 230));
        }
        var state = new MeterState(Meter);
        var stored = Stored(Feed(state, readings.Select(r => Reading(r.Item1, voltage: r.Item2)).Chunk(37).ToArray()));

        var offline = CustomerInterruptions.Find(Meter, readings, 230, readings[^1].Item1);
        Assert.True(offline.Count > 20, $"too tame: {offline.Count}");
        Assert.Equal(offline, stored);
    }
}
