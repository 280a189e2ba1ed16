using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Regional;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Regional;

/// <summary>
/// One region's rules without actors, driven the way <c>RegionActor</c> drives them: decide a batch
/// of meter windows, apply it, then decide and apply what to publish. Numbers are worked by hand in
/// the comments; the region's capacity is 200 kW so load percentages come out round.
/// </summary>
public class RegionStateSpecs
{
    private const string Region = "Pune-West";
    private const double CapacityKw = 200;
    private static readonly RegionPolicy Policy = new() { Retention = TimeSpan.FromMinutes(30), QuietTime = TimeSpan.FromMinutes(5) };
    private static readonly DateTimeOffset Wall = new(2026, 12, 6, 20, 0, 0, TimeSpan.Zero);

    /// <summary>A meter's published window holding readings of these powers, 10 s apart from <paramref name="start"/>, 0.01 kWh each.</summary>
    private static EmittedWindow MeterWindow(string meter, DateTimeOffset start, WindowSize size, int revision, params double[] powersKw)
    {
        var window = WindowAggregate.Empty(meter, Region, size, start);
        for (var i = 0; i < powersKw.Length; i++)
            window = window.Add(Reading(start.AddSeconds(10 * i), powersKw[i], meterId: meter, region: Region));
        return new EmittedWindow(window, revision);
    }

    private static EmittedWindow OneMinute(string meter, DateTimeOffset start, params double[] powersKw) =>
        MeterWindow(meter, start, WindowSize.OneMinute, 1, powersKw);

    /// <summary>Receives one batch and publishes what is ready; returns the regional windows published.</summary>
    private static List<EmittedRegionalWindow> Feed(RegionState state, IEnumerable<EmittedWindow> batch, DateTimeOffset now, bool idle = false)
    {
        if (state.Decide(batch, now) is { } received) state.Apply(received, Policy);
        var emitted = state.DecideEmission(idle, CapacityKw);
        if (emitted is null) return [];
        state.Apply(emitted, Policy);
        return emitted.Windows.ToList();
    }

    [Fact]
    public void Should_publish_the_sum_of_its_meters_averages_once_a_meter_moves_to_a_later_window()
    {
        var state = new RegionState(Region);

        // A averages (20 + 40) / 2 = 30 kW, B 50 kW, C 100 kW: the region drew 180 kW of its 200.
        var waiting = Feed(state, [OneMinute("MTR-A", Noon, 20, 40), OneMinute("MTR-B", Noon, 50), OneMinute("MTR-C", Noon, 100, 100, 100)], Wall);
        Assert.Empty(waiting);
        Assert.True(state.HasUnemittedWindows);

        var published = Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(1), 10)], Wall);

        var noon = Assert.Single(published);
        Assert.Equal((WindowSize.OneMinute, Noon, 1), (noon.Aggregate.Size, noon.Aggregate.WindowStart, noon.Revision));
        Assert.Equal((3, 6), (noon.Aggregate.MeterCount, noon.Aggregate.ReadingCount));
        AssertClose(180, noon.Aggregate.TotalPowerKw);
        AssertClose(60, noon.Aggregate.AvgPowerKw);
        AssertClose(0.06, noon.Aggregate.EnergyKwhSum);
        AssertClose(90, noon.Aggregate.LoadPercent);
        Assert.Equal(CapacityKw, noon.Aggregate.CapacityKw);
    }

    [Fact]
    public void Should_report_a_load_above_capacity_uncapped()
    {
        var state = new RegionState(Region);
        // 150 + 75 = 225 kW on 200 kW: 112.5 %, the figure the overload rule compares with its threshold.
        Feed(state, [OneMinute("MTR-A", Noon, 150), OneMinute("MTR-B", Noon, 75)], Wall);

        var noon = Assert.Single(Feed(state, [OneMinute("MTR-B", Noon.AddMinutes(1), 75)], Wall));

        AssertClose(112.5, noon.Aggregate.LoadPercent);
    }

    [Fact]
    public void Should_keep_one_minute_and_fifteen_minute_windows_apart_each_on_its_own_watermark()
    {
        var state = new RegionState(Region);
        Feed(state, [OneMinute("MTR-A", Noon, 10), MeterWindow("MTR-A", Noon, WindowSize.FifteenMinutes, 1, 10, 30)], Wall);

        // A later 1-minute window closes the 1-minute one only; the quarter-hour waits for a later quarter-hour.
        var minute = Assert.Single(Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(1), 10)], Wall));
        Assert.Equal(WindowSize.OneMinute, minute.Aggregate.Size);
        Assert.Equal(Noon.AddMinutes(2), state.Watermarks[WindowSize.OneMinute]);
        Assert.Equal(Noon.AddMinutes(15), state.Watermarks[WindowSize.FifteenMinutes]);

        var quarter = Feed(state, [MeterWindow("MTR-A", Noon.AddMinutes(15), WindowSize.FifteenMinutes, 1, 5)], Wall);
        var noonQuarter = Assert.Single(quarter);
        Assert.Equal((WindowSize.FifteenMinutes, Noon, 2), (noonQuarter.Aggregate.Size, noonQuarter.Aggregate.WindowStart, noonQuarter.Aggregate.ReadingCount));
        AssertClose(20, noonQuarter.Aggregate.TotalPowerKw); // (10 + 30) / 2
    }

    [Fact]
    public void Should_amend_a_published_window_with_the_next_revision_when_a_late_meter_window_arrives()
    {
        var state = new RegionState(Region);
        Feed(state, [OneMinute("MTR-A", Noon, 30)], Wall);
        var first = Assert.Single(Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(1), 30)], Wall));

        // B's noon window comes late (its partition lagged): the region republishes noon with B in it.
        var amended = Feed(state, [OneMinute("MTR-B", Noon, 50)], Wall);

        var noon = Assert.Single(amended);
        Assert.Equal((Noon, 1, 2), (first.Aggregate.WindowStart, first.Revision, noon.Revision));
        Assert.Equal((1, 2), (first.Aggregate.MeterCount, noon.Aggregate.MeterCount));
        AssertClose(80, noon.Aggregate.TotalPowerKw);
    }

    [Fact]
    public void Should_count_a_meter_once_with_its_newest_revision_and_ignore_a_redelivered_batch()
    {
        var state = new RegionState(Region);
        var batch = new[] { OneMinute("MTR-A", Noon, 30), OneMinute("MTR-B", Noon, 50) };
        Feed(state, batch, Wall);

        Assert.Null(state.Decide(batch, Wall.AddSeconds(1)));

        // A's window amended by a late reading (revision 2, now 30 and 60: 45 kW), and its stale revision 1 again.
        var amendedA = MeterWindow("MTR-A", Noon, WindowSize.OneMinute, 2, 30, 60);
        var received = state.Decide([amendedA, OneMinute("MTR-A", Noon, 30)], Wall.AddSeconds(2));
        Assert.NotNull(received);
        Assert.Equal(amendedA, Assert.Single(received.Windows));
        state.Apply(received, Policy);

        var noon = Assert.Single(Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(1), 1)], Wall.AddSeconds(3)));
        Assert.Equal((2, 3), (noon.Aggregate.MeterCount, noon.Aggregate.ReadingCount));
        AssertClose(95, noon.Aggregate.TotalPowerKw); // 45 + 50, not 30 + 45 + 50
    }

    [Fact]
    public void Should_publish_every_open_window_when_the_region_goes_idle()
    {
        var state = new RegionState(Region);
        // No meter has moved past noon, so nothing is ready until the region falls silent.
        Assert.Empty(Feed(state, [OneMinute("MTR-A", Noon, 30), MeterWindow("MTR-A", Noon, WindowSize.FifteenMinutes, 1, 30)], Wall));
        Assert.True(state.HasUnemittedWindows);

        var flushed = Feed(state, [], Wall, idle: true);

        Assert.Equal([(WindowSize.OneMinute, Noon), (WindowSize.FifteenMinutes, Noon)], flushed.Select(w => (w.Aggregate.Size, w.Aggregate.WindowStart)));
        Assert.False(state.HasUnemittedWindows);
        Assert.Empty(Feed(state, [], Wall, idle: true));
    }

    [Fact]
    public void Should_drop_a_meter_window_older_than_retention_behind_the_watermark_it_no_longer_holds()
    {
        var state = new RegionState(Region);
        Feed(state, [OneMinute("MTR-A", Noon, 30)], Wall);
        Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(40), 30)], Wall);
        // Noon was published, and only forgotten once untouched for the quiet time by the wall clock.
        Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(41), 30)], Wall.AddMinutes(6));

        // Noon ends 12:01; 12:01 + 30 min retention is behind the 12:42 watermark.
        var late = Feed(state, [OneMinute("MTR-B", Noon, 50)], Wall.AddMinutes(6));

        Assert.DoesNotContain(late, w => w.Aggregate.WindowStart == Noon);
        Assert.Equal(1, state.LateWindowsDropped);
    }

    [Fact]
    public void Should_still_amend_an_old_window_that_has_not_been_quiet_for_long_by_the_wall_clock()
    {
        var state = new RegionState(Region);
        Feed(state, [OneMinute("MTR-A", Noon, 30)], Wall);
        // A fast replay: 40 minutes of event time in one wall-clock minute.
        Feed(state, [OneMinute("MTR-A", Noon.AddMinutes(40), 30)], Wall.AddMinutes(1));

        var amended = Feed(state, [OneMinute("MTR-B", Noon, 50)], Wall.AddMinutes(1));

        var noon = Assert.Single(amended, w => w.Aggregate.WindowStart == Noon);
        Assert.Equal((2, 2), (noon.Revision, noon.Aggregate.MeterCount));
        Assert.Equal(0, state.LateWindowsDropped);
    }

    [Fact]
    public void Should_decide_the_same_after_a_snapshot_round_trip()
    {
        var live = new RegionState(Region);
        Feed(live, [OneMinute("MTR-A", Noon, 30), OneMinute("MTR-B", Noon, 50), MeterWindow("MTR-A", Noon, WindowSize.FifteenMinutes, 1, 30)], Wall);
        Feed(live, [OneMinute("MTR-A", Noon.AddMinutes(1), 20)], Wall.AddSeconds(5));
        var restored = RegionState.FromSnapshot(live.ToSnapshot());
        Assert.Equal((live.LastReceivedAt, live.LateWindowsDropped, live.HasUnemittedWindows), (restored.LastReceivedAt, restored.LateWindowsDropped, restored.HasUnemittedWindows));
        Assert.Equal(live.Watermarks, restored.Watermarks);

        // The same news to both: a redelivery, a late meter, a later minute, then silence.
        EmittedWindow[][] batches =
        [
            [OneMinute("MTR-A", Noon, 30)],
            [OneMinute("MTR-C", Noon, 70)],
            [OneMinute("MTR-B", Noon.AddMinutes(2), 10)],
        ];
        var fromLive = batches.SelectMany(b => Feed(live, b, Wall.AddSeconds(10))).Concat(Feed(live, [], Wall.AddSeconds(10), idle: true)).ToList();
        var fromRestored = batches.SelectMany(b => Feed(restored, b, Wall.AddSeconds(10))).Concat(Feed(restored, [], Wall.AddSeconds(10), idle: true)).ToList();

        Assert.Equal(fromLive, fromRestored);
        var amendedNoon = Assert.Single(fromLive, w => w.Aggregate.Size == WindowSize.OneMinute && w.Aggregate.WindowStart == Noon);
        Assert.Equal((2, 3), (amendedNoon.Revision, amendedNoon.Aggregate.MeterCount));
        AssertClose(150, amendedNoon.Aggregate.TotalPowerKw); // 30 + 50 + 70
    }
}
