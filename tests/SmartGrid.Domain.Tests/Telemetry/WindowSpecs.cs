using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Tests.Telemetry;

public class WindowSpecs
{
    private static DateTimeOffset Utc(int hour, int minute, int second = 0) => new(2024, 1, 15, hour, minute, second, TimeSpan.Zero);

    [Theory]
    [InlineData("2024-01-15T14:30:00.000Z", "2024-01-15T14:30:00Z")] // start is inclusive
    [InlineData("2024-01-15T14:30:59.9999999Z", "2024-01-15T14:30:00Z")]
    [InlineData("2024-01-15T14:31:00.000Z", "2024-01-15T14:31:00Z")] // end is exclusive
    [InlineData("2024-01-15T23:59:59.999Z", "2024-01-15T23:59:00Z")]
    [InlineData("2024-01-15T20:00:30+05:30", "2024-01-15T14:30:00Z")]
    public void Should_floor_to_the_one_minute_window_start_in_utc(string timestamp, string expected)
    {
        DateTimeOffset start = Window.Floor(DateTimeOffset.Parse(timestamp), WindowSize.OneMinute);

        Assert.Equal(DateTimeOffset.Parse(expected), start);
        Assert.Equal(TimeSpan.Zero, start.Offset);
    }

    [Theory]
    [InlineData("2024-01-15T14:30:00Z", "2024-01-15T14:30:00Z")]
    [InlineData("2024-01-15T14:44:59.9999999Z", "2024-01-15T14:30:00Z")]
    [InlineData("2024-01-15T14:45:00Z", "2024-01-15T14:45:00Z")]
    [InlineData("2024-01-15T00:14:59Z", "2024-01-15T00:00:00Z")]
    [InlineData("2024-01-15T20:00:00+05:45", "2024-01-15T14:15:00Z")] // aligned on UTC, not on local quarters
    public void Should_floor_to_the_fifteen_minute_window_start_in_utc(string timestamp, string expected)
    {
        DateTimeOffset start = Window.Floor(DateTimeOffset.Parse(timestamp), WindowSize.FifteenMinutes);

        Assert.Equal(DateTimeOffset.Parse(expected), start);
        Assert.Equal(TimeSpan.Zero, start.Offset);
    }

    [Fact]
    public void Should_contain_its_start_but_not_its_end()
    {
        DateTimeOffset start = Utc(14, 30);

        Assert.True(Window.Contains(start, WindowSize.FifteenMinutes, start));
        Assert.True(Window.Contains(start, WindowSize.FifteenMinutes, Utc(14, 44, 59)));
        Assert.False(Window.Contains(start, WindowSize.FifteenMinutes, Utc(14, 45)));
        Assert.False(Window.Contains(start, WindowSize.FifteenMinutes, start.AddTicks(-1)));
        Assert.Equal(Utc(14, 45), Window.End(start, WindowSize.FifteenMinutes));
        Assert.Equal(Utc(14, 31), Window.End(start, WindowSize.OneMinute));
    }

    [Fact]
    public void Should_key_a_window_by_meter_size_and_utc_start()
    {
        var key = WindowKey.For("MTR-00000001", WindowSize.FifteenMinutes, DateTimeOffset.Parse("2024-01-15T20:10:00+05:30"));
        var same = new WindowKey("MTR-00000001", WindowSize.FifteenMinutes, Utc(14, 30));

        Assert.Equal(same, key);
        Assert.Equal(same.GetHashCode(), key.GetHashCode());
        Assert.Equal(TimeSpan.Zero, key.Start.Offset);
        Assert.Equal(Utc(14, 45), key.End);
        Assert.NotEqual(key, new WindowKey("MTR-00000001", WindowSize.OneMinute, Utc(14, 30)));
        Assert.NotEqual(key, new WindowKey("MTR-00000002", WindowSize.FifteenMinutes, Utc(14, 30)));
    }

    [Fact]
    public void Should_refuse_a_key_whose_start_is_not_a_window_boundary()
    {
        Assert.Throws<ArgumentException>(() => new WindowKey("MTR-00000001", WindowSize.FifteenMinutes, Utc(14, 31)));
        Assert.Throws<ArgumentException>(() => new WindowKey("MTR-00000001", WindowSize.OneMinute, Utc(14, 31, 1)));
    }

    [Fact]
    public void Should_name_sizes_as_the_topics_do()
    {
        Assert.Equal("1m", WindowSize.OneMinute.ToWireName());
        Assert.Equal("15m", WindowSize.FifteenMinutes.ToWireName());
        Assert.Equal(TimeSpan.FromMinutes(15), WindowSize.FifteenMinutes.Duration());
    }
}
