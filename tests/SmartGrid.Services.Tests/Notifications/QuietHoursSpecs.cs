using SmartGrid.Channels;
using SmartGrid.Services.Notifications;

namespace SmartGrid.Services.Tests.Notifications;

/// <summary>The quiet-hours rule on its own: no actor system, no database.</summary>
public sealed class QuietHoursSpecs
{
    private static readonly QuietHours Night = new(new TimeOnly(22, 0), new TimeOnly(6, 0));
    private static readonly QuietHours Lunch = new(new TimeOnly(12, 0), new TimeOnly(13, 30));

    private static DateTimeOffset At(int hour, int minute, TimeSpan? offset = null) =>
        new DateTimeOffset(2024, 1, 15, hour, minute, 0, TimeSpan.Zero).ToOffset(offset ?? TimeSpan.Zero);

    [Theory]
    [InlineData(21, 59, false)]
    [InlineData(22, 0, true)]
    [InlineData(23, 59, true)]
    [InlineData(0, 0, true)]
    [InlineData(5, 59, true)]
    [InlineData(6, 0, false)]
    [InlineData(14, 0, false)]
    public void Should_wrap_a_window_that_starts_before_midnight_past_it(int hour, int minute, bool quiet) =>
        Assert.Equal(quiet, Night.Contains(new TimeOnly(hour, minute)));

    [Theory]
    [InlineData(11, 59, false)]
    [InlineData(12, 0, true)]
    [InlineData(13, 29, true)]
    [InlineData(13, 30, false)]
    [InlineData(0, 0, false)]
    [InlineData(23, 0, false)]
    public void Should_keep_a_window_within_one_day_to_its_hours(int hour, int minute, bool quiet) =>
        Assert.Equal(quiet, Lunch.Contains(new TimeOnly(hour, minute)));

    [Fact]
    public void Should_treat_a_window_with_equal_ends_as_empty_rather_than_all_day()
    {
        var empty = new QuietHours(new TimeOnly(8, 0), new TimeOnly(8, 0));
        Assert.False(empty.Contains(new TimeOnly(8, 0)));
        Assert.False(empty.Contains(new TimeOnly(3, 0)));
    }

    [Fact]
    public void Should_have_quiet_hours_only_when_both_ends_are_set()
    {
        Assert.Null(QuietHours.From(new TimeOnly(22, 0), null));
        Assert.Null(QuietHours.From(null, new TimeOnly(6, 0)));
        Assert.Equal(Night, QuietHours.From(new TimeOnly(22, 0), new TimeOnly(6, 0)));
    }

    [Theory]
    [InlineData("sms", "high", true)]
    [InlineData("push", "medium", true)]
    [InlineData("sms", "low", true)]
    [InlineData("sms", null, true)] // a tariff change has no severity and is never critical
    [InlineData("push", null, true)]
    [InlineData("sms", "critical", false)]
    [InlineData("push", "CRITICAL", false)]
    [InlineData("email", "high", false)]
    [InlineData("webhook", "low", false)]
    [InlineData("email", null, false)]
    public void Should_hold_back_only_sms_and_push_below_critical_during_quiet_hours(string channel, string? severity, bool held)
    {
        Assert.Equal(held, QuietHours.HoldsBack(Night, channel, severity, At(23, 30)));
        // Outside the window nothing is held back, and a user without quiet hours never is.
        Assert.False(QuietHours.HoldsBack(Night, channel, severity, At(12, 0)));
        Assert.False(QuietHours.HoldsBack(null, channel, severity, At(23, 30)));
    }

    [Fact]
    public void Should_judge_the_window_in_utc_whatever_the_offset_of_the_clock()
    {
        // 23:30 UTC is 05:00 the next morning in India: still quiet, as the columns are UTC.
        Assert.True(QuietHours.HoldsBack(Night, "sms", "high", At(23, 30, TimeSpan.FromHours(5.5))));
        // 12:00 UTC is 17:30 in India: not quiet.
        Assert.False(QuietHours.HoldsBack(Night, "sms", "high", At(12, 0, TimeSpan.FromHours(5.5))));
    }
}
