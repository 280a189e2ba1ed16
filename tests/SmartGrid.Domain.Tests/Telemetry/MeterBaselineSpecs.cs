using System.Text.Json;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Telemetry;

public class MeterBaselineSpecs
{
    private static readonly DateTimeOffset NineOClock = new(2024, 1, 15, 9, 0, 0, TimeSpan.Zero);

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
}
