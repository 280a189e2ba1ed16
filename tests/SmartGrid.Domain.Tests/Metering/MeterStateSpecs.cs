using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Metering;

/// <summary>
/// One meter's rules without actors: what it counts, drops and publishes, batch by batch, the
/// way <c>MeterBucket</c> drives each of its meters (decide, then apply every event).
/// </summary>
public class MeterStateSpecs
{
    private const string Meter = "MTR-00000001";
    private static readonly MeterPolicy Policy = new() { AllowedLateness = TimeSpan.FromMinutes(1) };

    /// <summary>Decides and applies one batch; returns the windows it published.</summary>
    private static List<EmittedWindow> Feed(MeterState state, IReadOnlyList<TelemetryReading> batch, bool idle = false)
    {
        var published = new List<EmittedWindow>();
        foreach (var e in state.Decide(batch, idle, Policy))
        {
            if (e is ReadingsAccepted r) state.Apply(r, Policy);
            if (e is WindowsEmitted w)
            {
                state.Apply(w, Policy);
                published.AddRange(w.Windows);
            }
        }
        return published;
    }

    private static TelemetryReading[] Every10Seconds(DateTimeOffset from, int count, double powerKw = 1.0) =>
        Enumerable.Range(0, count).Select(i => Reading(from.AddSeconds(10 * i), powerKw)).ToArray();

    [Fact]
    public void Should_count_every_genuine_reading_sent_after_one_stamped_four_minutes_ahead()
    {
        var now = Noon.AddSeconds(5);
        var state = new MeterState(Meter);
        var ahead = Reading(now.AddMinutes(4), powerKw: 9);
        // The 18 readings of the 3 minutes before, as a head-end posts its backlog: one at a time, then all at once.
        var genuine = Every10Seconds(now.AddMinutes(-3), 18);

        var publishedEarly = Feed(state, [ahead]);
        foreach (var reading in genuine.Take(6)) publishedEarly.AddRange(Feed(state, [reading]));
        publishedEarly.AddRange(Feed(state, genuine.Skip(6).ToArray()));

        Assert.DoesNotContain(publishedEarly, w => w.Aggregate.WindowStart >= Window.Floor(ahead.Timestamp, WindowSize.FifteenMinutes));
        Assert.Equal((19L, 0L, 0L), (state.AcceptedTotal, state.TooLateTotal, state.DuplicatesTotal));

        var all = publishedEarly.Concat(Feed(state, [], idle: true)).Where(w => w.Aggregate.Size == WindowSize.OneMinute).ToList();
        Assert.Equal(19, EmittedWindow.NewestRevisions(all).Sum(w => w.Aggregate.ReadingCount));
        var expected = genuine.Append(ahead).GroupBy(r => Window.Floor(r.Timestamp, WindowSize.OneMinute)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected, EmittedWindow.NewestRevisions(all).ToDictionary(w => w.Aggregate.WindowStart, w => w.Aggregate.ReadingCount));
    }

    [Fact]
    public void Should_count_the_backlog_of_a_meter_that_was_reporting_before_the_reading_from_the_future()
    {
        var now = Noon.AddSeconds(5);
        var state = new MeterState(Meter);
        Feed(state, Every10Seconds(now.AddMinutes(-6), 18));
        var acceptedBefore = state.AcceptedTotal;

        Feed(state, [Reading(now.AddMinutes(4))]);
        Feed(state, Every10Seconds(now.AddMinutes(-3), 18));

        Assert.Equal((acceptedBefore + 19, 0L), (state.AcceptedTotal, state.TooLateTotal));
    }

    [Fact]
    public void Should_follow_the_meter_again_once_a_second_reading_vouches_for_a_time()
    {
        var state = new MeterState(Meter);
        Feed(state, [Reading(Noon.AddMinutes(4))]);
        Assert.Equal(DateTimeOffset.MinValue, state.Watermark);

        Feed(state, [Reading(Noon)]);
        Assert.Equal((Noon.AddMinutes(4), Noon), (state.Newest, state.Watermark));

        // Two readings past a minute's lateness: a straggler of that minute is now too late.
        Feed(state, [Reading(Noon.AddMinutes(4).AddSeconds(10))]);
        Feed(state, [Reading(Noon.AddMinutes(3))]);
        Assert.Equal(0, state.TooLateTotal);
        Feed(state, [Reading(Noon.AddSeconds(20))]);
        Assert.Equal(1, state.TooLateTotal);
        Assert.Equal(Noon.AddMinutes(4).AddSeconds(10), state.LastReadingAt);
    }

    [Fact]
    public void Should_publish_a_window_once_the_second_newest_reading_is_past_its_lateness()
    {
        var state = new MeterState(Meter);
        Feed(state, Every10Seconds(Noon, 6));
        var closeAt = Noon.AddMinutes(2); // end of the minute plus one minute of lateness

        Assert.Empty(Feed(state, [Reading(closeAt)]));
        var published = Feed(state, [Reading(closeAt.AddSeconds(10))]);

        var window = Assert.Single(published, w => w.Aggregate.Size == WindowSize.OneMinute);
        Assert.Equal((Noon, 6, 1), (window.Aggregate.WindowStart, window.Aggregate.ReadingCount, window.Revision));
    }

    [Fact]
    public void Should_decide_the_same_whatever_the_batching()
    {
        var now = Noon.AddSeconds(5);
        TelemetryReading[] stream = [Reading(now.AddMinutes(4)), .. Every10Seconds(now.AddMinutes(-3), 18), Reading(now.AddMinutes(-8))];
        var oneByOne = new MeterState(Meter);
        foreach (var reading in stream) Feed(oneByOne, [reading]);
        var together = new MeterState(Meter);
        Feed(together, stream);

        Assert.Equal((19L, 1L), (oneByOne.AcceptedTotal, oneByOne.TooLateTotal));
        Assert.Equal((oneByOne.AcceptedTotal, oneByOne.TooLateTotal, oneByOne.Watermark, oneByOne.Newest),
            (together.AcceptedTotal, together.TooLateTotal, together.Watermark, together.Newest));
    }

    [Fact]
    public void Should_recognise_a_re_sent_reading_for_the_whole_de_duplication_horizon()
    {
        var state = new MeterState(Meter);
        var stream = Every10Seconds(Noon.AddMilliseconds(70), 6 * 40);
        foreach (var reading in stream) Feed(state, [reading]);

        Feed(state, [stream[^175], stream[^1], stream[^2]]);
        Assert.Equal((240L, 3L, 0L), (state.AcceptedTotal, state.DuplicatesTotal, state.TooLateTotal));

        // Beyond the horizon a reading is forgotten, and far too late to count.
        Feed(state, [stream[^190]]);
        Assert.Equal((240L, 3L, 1L), (state.AcceptedTotal, state.DuplicatesTotal, state.TooLateTotal));
    }

    [Fact]
    public void Should_tell_apart_readings_off_the_meters_cadence_to_the_tick()
    {
        var state = new MeterState(Meter);
        TelemetryReading[] offCadence = [Reading(Noon), Reading(Noon.AddMilliseconds(500)), Reading(Noon.AddTicks(1)), Reading(Noon.AddSeconds(10))];

        Feed(state, offCadence);
        Feed(state, offCadence.Reverse().ToArray());

        Assert.Equal((4L, 4L), (state.AcceptedTotal, state.DuplicatesTotal));
    }

    [Fact]
    public void Should_decide_the_same_after_a_snapshot_round_trip()
    {
        var live = new MeterState(Meter);
        var stream = Every10Seconds(Noon.AddMilliseconds(70), 6 * 20);
        foreach (var reading in stream.Take(100)) Feed(live, [reading]);
        var restored = MeterState.FromSnapshot(live.ToSnapshot());
        Assert.Equal(live.Windows, restored.Windows);

        // The rest, with re-sends and a straggler, then silence: both publish the same windows and count the same.
        TelemetryReading[] rest = [.. stream.Skip(100), stream[95], stream[99], Reading(Noon.AddMinutes(2).AddMilliseconds(1))];
        var fromLive = rest.SelectMany(r => Feed(live, [r])).Concat(Feed(live, [], idle: true)).ToList();
        var fromRestored = rest.SelectMany(r => Feed(restored, [r])).Concat(Feed(restored, [], idle: true)).ToList();

        Assert.Equal(fromLive, fromRestored);
        Assert.Equal((live.AcceptedTotal, live.DuplicatesTotal, live.TooLateTotal, live.Watermark, live.Newest, live.Baseline),
            (restored.AcceptedTotal, restored.DuplicatesTotal, restored.TooLateTotal, restored.Watermark, restored.Newest, restored.Baseline));
        Assert.Equal((2L, 1L), (live.DuplicatesTotal, live.TooLateTotal));
    }

    [Fact]
    public void Should_close_the_minute_and_the_quarter_hour_exactly_when_the_watermark_reaches_their_end_plus_lateness()
    {
        var state = new MeterState(Meter);
        Feed(state, [Reading(Noon, powerKw: 2, voltage: 228), Reading(Noon.AddSeconds(10), powerKw: 4, voltage: 230), Reading(Noon.AddSeconds(20), powerKw: 6, voltage: 232)]);

        // 12:16 is the newest but the watermark is still 12:00:20: nothing closes on one reading.
        Assert.Empty(Feed(state, [Reading(Noon.AddMinutes(16), powerKw: 1)]));
        Assert.Equal(Noon.AddSeconds(20), state.Watermark);

        // The watermark is now 12:16:00 = the quarter-hour's end 12:15 + 1 min lateness (and well past 12:01 + 1 min).
        var published = Feed(state, [Reading(Noon.AddMinutes(16).AddSeconds(10), powerKw: 1)]);

        Assert.Equal([(WindowSize.OneMinute, Noon), (WindowSize.FifteenMinutes, Noon)],
            published.Select(w => (w.Aggregate.Size, w.Aggregate.WindowStart)));
        Assert.All(published, w =>
        {
            Assert.Equal((1, 3, "Pune-West"), (w.Revision, w.Aggregate.ReadingCount, w.Aggregate.Region));
            AssertClose(4, w.Aggregate.PowerKwAvg); // (2 + 4 + 6) / 3
            Assert.Equal((2.0, 6.0), (w.Aggregate.PowerKwMin, w.Aggregate.PowerKwMax));
            AssertClose(230, w.Aggregate.VoltageAvg);
            AssertClose(0.03, w.Aggregate.EnergyKwhSum);
        });
    }

    [Fact]
    public void Should_amend_a_window_published_on_silence_with_the_next_revision()
    {
        var state = new MeterState(Meter);
        Feed(state, Every10Seconds(Noon, 2, powerKw: 3));
        var onSilence = Feed(state, [], idle: true);
        Assert.Equal([(WindowSize.OneMinute, 1, 2), (WindowSize.FifteenMinutes, 1, 2)],
            onSilence.Select(w => (w.Aggregate.Size, w.Revision, w.Aggregate.ReadingCount)));
        Assert.False(state.HasUnemittedWindows);

        // The watermark is 12:00:00, so a reading of the same minute is still on time: the windows reopen.
        Assert.Empty(Feed(state, [Reading(Noon.AddSeconds(20), powerKw: 6)]));
        Assert.True(state.HasUnemittedWindows);
        var amended = Feed(state, [], idle: true);

        Assert.Equal([(WindowSize.OneMinute, 2, 3), (WindowSize.FifteenMinutes, 2, 3)],
            amended.Select(w => (w.Aggregate.Size, w.Revision, w.Aggregate.ReadingCount)));
        Assert.All(amended, w => AssertClose(4, w.Aggregate.PowerKwAvg)); // (3 + 3 + 6) / 3
    }

    [Theory]
    [InlineData(2.0, false)] // the last gasp: under 5 % of 230 V, the supply is gone
    [InlineData(229.0, true)] // the supply is there and the customer draws nothing: a drop
    public void Should_raise_no_drop_for_the_last_gasp_of_an_outage_nor_learn_it(double voltage, bool isDrop)
    {
        var state = new MeterState(Meter);
        Feed(state, Every10Seconds(Noon, 6 * 12)); // twelve minutes at 1 kW: the noon slot is established at exactly 1.0
        Feed(state, [], idle: true);
        Assert.Equal(1.0, state.Baseline.Expected(Noon));

        var anomalies = new List<Anomaly>();
        foreach (var batch in new[] { [Reading(Noon.AddMinutes(12), powerKw: 0, voltage: voltage, current: 0)], Array.Empty<TelemetryReading>() })
        {
            foreach (var e in state.Decide(batch, idle: batch.Length == 0, Policy))
            {
                if (e is ReadingsAccepted r) state.Apply(r, Policy);
                if (e is WindowsEmitted w)
                {
                    state.Apply(w, Policy);
                    anomalies.AddRange(w.Anomalies);
                }
            }
        }

        Assert.Equal(isDrop ? [(AnomalyKind.Drop, Severity.Critical)] : [], anomalies.Select(a => (a.Kind, a.Severity)));
        // A drop is learned held to the band (half the reference: 1.0 + 0.1 × (0.5 − 1.0) = 0.95); a gasp not at all.
        AssertClose(isDrop ? 0.95 : 1.0, state.Baseline.Expected(Noon)!.Value);
    }

    [Fact]
    public void Should_persist_nothing_for_an_empty_batch_and_only_counts_for_a_batch_of_duplicates()
    {
        var state = new MeterState(Meter);
        var batch = Every10Seconds(Noon, 3);
        Feed(state, batch);

        Assert.Empty(state.Decide([], idle: false, Policy));
        var events = state.Decide([batch[0], batch[2]], idle: false, Policy);

        var counted = Assert.IsType<ReadingsAccepted>(Assert.Single(events));
        Assert.Equal((0, 2, 0), (counted.Readings.Count, counted.Duplicates, counted.TooLate));
        Assert.Equal(3, state.AcceptedTotal); // Decide leaves the state alone
    }
}
