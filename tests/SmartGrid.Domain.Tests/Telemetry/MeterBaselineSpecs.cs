using System.Text.Json;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Telemetry;

public class MeterBaselineSpecs
{
    private static readonly DateTimeOffset NineOClock = new(2024, 1, 15, 9, 0, 0, TimeSpan.Zero); // a Monday

    // The week of Monday 2024-01-15, UTC.
    private static readonly DateTimeOffset Saturday = new(2024, 1, 13, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Sunday = Saturday.AddDays(1);
    private static readonly DateTimeOffset Monday = Saturday.AddDays(2);
    private static readonly DateTimeOffset Tuesday = Saturday.AddDays(3);
    private static readonly DateTimeOffset Friday = Saturday.AddDays(6);
    private static readonly DateTimeOffset NextSaturday = Saturday.AddDays(7);

    private static MeterBaseline Learned(MeterBaseline baseline, DateTimeOffset hour, double powerKw) =>
        ObserveEachMinute(baseline, hour, Enumerable.Repeat(powerKw, MeterBaseline.DefaultMinSamples).ToArray());

    private static MeterBaseline ObserveEachMinute(MeterBaseline baseline, DateTimeOffset hour, params double[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            baseline = baseline.Observe(hour.AddMinutes(i % 60).AddDays(i / 60), values[i]);
        }

        return baseline;
    }

    [Fact]
    public void Should_not_expect_anything_until_the_slot_has_the_minimum_samples()
    {
        MeterBaseline nine = ObserveEachMinute(new MeterBaseline(), NineOClock, 1, 1, 1, 1, 1, 1, 1, 1, 1);

        Assert.Null(nine.Expected(NineOClock));
        Assert.False(nine.IsEstablished(NineOClock));
        Assert.Equal(9, nine.SamplesAt(NineOClock.AddMinutes(30)));

        MeterBaseline ten = nine.Observe(NineOClock.AddMinutes(59), 1);

        Assert.True(ten.IsEstablished(NineOClock));
        Assert.Equal(1, ten.Expected(NineOClock.AddMinutes(45)));
    }

    [Fact]
    public void Should_learn_each_hour_of_day_separately()
    {
        MeterBaseline baseline = ObserveEachMinute(new MeterBaseline(), NineOClock, Enumerable.Repeat(2.0, 10).ToArray());

        Assert.Equal(2, baseline.Expected(NineOClock.AddDays(3).AddMinutes(10)));
        Assert.Null(baseline.Expected(NineOClock.AddHours(1)));
        Assert.Null(baseline.Expected(NineOClock.AddMinutes(-1)));
        Assert.Equal(10, baseline.Counts[9]);
        Assert.Equal(0, baseline.Counts.Sum() - 10);
    }

    [Fact]
    public void Should_start_from_the_plain_mean_of_the_first_samples()
    {
        MeterBaseline baseline = ObserveEachMinute(new MeterBaseline(), NineOClock, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

        AssertClose(5.5, baseline.Expected(NineOClock)!.Value);
    }

    [Fact]
    public void Should_weigh_new_samples_by_alpha_once_established()
    {
        MeterBaseline baseline = ObserveEachMinute(new MeterBaseline(), NineOClock, Enumerable.Repeat(1.0, 10).ToArray());

        MeterBaseline next = baseline.Observe(NineOClock.AddMinutes(20), 11);

        AssertClose(1 + 0.1 * (11 - 1), next.Expected(NineOClock)!.Value);
        AssertClose(2 + 0.5 * (12 - 2), MeterBaseline.Create(alpha: 0.5, minSamples: 1)
            .Observe(NineOClock, 2).Observe(NineOClock, 2).Observe(NineOClock, 12).Expected(NineOClock)!.Value);
    }

    [Fact]
    public void Should_follow_a_lasting_change_in_consumption()
    {
        MeterBaseline baseline = ObserveEachMinute(new MeterBaseline(), NineOClock, Enumerable.Repeat(1.0, 20).ToArray());

        baseline = ObserveEachMinute(baseline, NineOClock.AddDays(1), Enumerable.Repeat(3.0, 60).ToArray());

        Assert.InRange(baseline.Expected(NineOClock)!.Value, 2.99, 3.0);
    }

    [Fact]
    public void Should_leave_the_original_unchanged_when_observing()
    {
        var empty = new MeterBaseline();

        MeterBaseline observed = empty.Observe(NineOClock, 5);

        Assert.Equal(0, empty.Counts[9]);
        Assert.Equal(0, empty.Means[9]);
        Assert.Equal(1, observed.Counts[9]);
        Assert.NotEqual(empty, observed);
    }

    [Fact]
    public void Should_not_be_changed_through_the_arrays_it_was_built_from()
    {
        double[] means = new double[24];
        int[] counts = Enumerable.Repeat(10, 24).ToArray();
        var baseline = new MeterBaseline { Means = means, Counts = counts };

        means[9] = 42;

        Assert.Equal(0, baseline.Expected(NineOClock));
    }

    [Fact]
    public void Should_use_the_configured_clock_for_hour_slots()
    {
        MeterBaseline ist = MeterBaseline.Create(slotClockOffset: new TimeSpan(5, 30, 0));

        Assert.Equal(14, ist.SlotOf(NineOClock)); // 09:00 UTC is 14:30 IST
        Assert.Equal(9, new MeterBaseline().SlotOf(NineOClock));
        Assert.Equal(9, new MeterBaseline().SlotOf(DateTimeOffset.Parse("2024-01-15T14:30:00+05:30")));
    }

    [Fact]
    public void Should_refuse_invalid_settings_and_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MeterBaseline.Create(alpha: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MeterBaseline.Create(alpha: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => MeterBaseline.Create(minSamples: 0));
        Assert.Throws<ArgumentException>(() => new MeterBaseline { Means = new double[23] });
        Assert.Throws<ArgumentException>(() => new MeterBaseline { Counts = new int[MeterBaseline.SlotCount - 1] });
        Assert.Throws<ArgumentOutOfRangeException>(() => new MeterBaseline().Observe(NineOClock, double.NaN));
    }

    [Fact]
    public void Should_survive_a_json_round_trip_unchanged()
    {
        MeterBaseline baseline = ObserveEachMinute(MeterBaseline.Create(0.2, 5, TimeSpan.FromHours(1)), NineOClock, 1.5, 2.25, 3.125, 0.1, 7, 0.3);

        string json = JsonSerializer.Serialize(baseline);
        MeterBaseline? back = JsonSerializer.Deserialize<MeterBaseline>(json);

        Assert.Equal(baseline, back);
        Assert.Equal(baseline.GetHashCode(), back!.GetHashCode());
        Assert.Contains("\"min_samples\":5", json, StringComparison.Ordinal);
        Assert.Equal(baseline.Expected(NineOClock), back.Expected(NineOClock));
    }

    [Fact]
    public void Should_not_judge_a_monday_hour_against_what_the_office_drew_at_that_hour_on_sunday()
    {
        // Closed on Sunday: 0.2 kW at 11:00. Monday 11:00 has no weekday history yet.
        MeterBaseline baseline = Learned(new MeterBaseline(), Sunday.AddHours(11), 0.2);

        Assert.Equal(0.2, baseline.Expected(Sunday.AddHours(11).AddMinutes(30)));
        Assert.Null(baseline.Expected(Monday.AddHours(11)));
        Assert.Null(baseline.Reference(Monday.AddHours(11)));
        Assert.Null(baseline.Reference(Monday.AddHours(12).AddMinutes(5)));
        Assert.Equal(0, baseline.SamplesAt(Monday.AddHours(11)));
    }

    [Fact]
    public void Should_judge_tuesday_by_what_monday_drew_and_not_saturday()
    {
        MeterBaseline baseline = Learned(new MeterBaseline(), Monday.AddHours(11), 6);

        Assert.Equal(6, baseline.Expected(Tuesday.AddHours(11).AddMinutes(20)));
        Assert.Equal(6, baseline.Expected(Friday.AddHours(11)));
        Assert.Null(baseline.Expected(NextSaturday.AddHours(11)));
        Assert.Null(baseline.Reference(NextSaturday.AddHours(11)));
    }

    [Fact]
    public void Should_judge_saturday_by_what_sunday_drew_and_keep_both_day_types_apart()
    {
        MeterBaseline baseline = Learned(new MeterBaseline(), Sunday.AddHours(11), 0.2);
        baseline = Learned(baseline, Monday.AddHours(11), 6);

        Assert.Equal(0.2, baseline.Expected(NextSaturday.AddHours(11)));
        Assert.Equal(6, baseline.Expected(Tuesday.AddHours(11)));
        Assert.Equal(MeterBaseline.DefaultMinSamples, baseline.SamplesAt(NextSaturday.AddHours(11)));
        Assert.Equal(2 * MeterBaseline.DefaultMinSamples, baseline.Counts.Sum());
    }

    [Fact]
    public void Should_fall_back_to_the_hour_before_only_within_the_same_day_type()
    {
        MeterBaseline baseline = Learned(new MeterBaseline(), Monday.AddHours(10), 6);
        baseline = Learned(baseline, Monday.AddHours(23), 1);
        baseline = Learned(baseline, Sunday.AddHours(23), 0.5);

        // The young first minutes of an hour lean on the hour before, as they always did...
        Assert.Equal(6, baseline.Reference(Tuesday.AddHours(11).AddMinutes(5)));
        Assert.Equal(1, baseline.Reference(Tuesday.AddMinutes(5))); // Monday 23:00 -> Tuesday 00:00
        // ...but never across the edge of the weekend, either way.
        Assert.Null(baseline.Reference(Monday.AddDays(7).AddMinutes(5))); // Sunday 23:00 -> Monday 00:00
        Assert.Equal(1, baseline.Expected(Friday.AddHours(23)));
        Assert.Null(baseline.Reference(NextSaturday.AddMinutes(5))); // Friday 23:00 -> Saturday 00:00
    }

    [Fact]
    public void Should_take_the_day_type_on_the_baselines_own_clock()
    {
        MeterBaseline ist = MeterBaseline.Create(slotClockOffset: new TimeSpan(5, 30, 0));

        // Friday 20:00 UTC is Saturday 01:30 IST; Sunday 20:00 UTC is Monday 01:30 IST.
        Assert.Equal(MeterBaseline.HoursPerDay + 1, ist.SlotOf(Friday.AddHours(20)));
        Assert.Equal(1, ist.SlotOf(Sunday.AddHours(20)));
        Assert.Equal(MeterBaseline.HoursPerDay + 20, new MeterBaseline().SlotOf(Sunday.AddHours(20)));
    }

    [Fact]
    public void Should_load_a_baseline_written_with_one_slot_per_hour_into_both_day_types()
    {
        // What a baseline serialised as JSON before day types: 24 slots, hour 11 learned.
        string hours = string.Join(",", Enumerable.Range(0, 24).Select(h => h == 11 ? "4.5" : "0"));
        string counts = string.Join(",", Enumerable.Range(0, 24).Select(h => h == 11 ? "12" : "0"));
        string old = $$"""{"alpha":0.1,"min_samples":10,"utc_offset_minutes":0,"means":[{{hours}}],"counts":[{{counts}}]}""";

        MeterBaseline baseline = JsonSerializer.Deserialize<MeterBaseline>(old)!;

        Assert.Equal(4.5, baseline.Expected(Monday.AddHours(11)));
        Assert.Equal(4.5, baseline.Expected(Sunday.AddHours(11)));
        Assert.Equal(MeterBaseline.SlotCount, baseline.Means.Count);
        Assert.Equal(baseline, JsonSerializer.Deserialize<MeterBaseline>(JsonSerializer.Serialize(baseline)));
        // From here on each day type learns on its own.
        MeterBaseline sundayMoved = Learned(baseline, Sunday.AddHours(11), 0.2);
        Assert.Equal(4.5, sundayMoved.Expected(Monday.AddHours(11)));
        Assert.True(sundayMoved.Expected(Sunday.AddHours(11)) < 4.5);
    }
}
