using System.Text.Json.Serialization;

namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// The two aggregation levels of the seed. The numeric value is the length in minutes, so a
/// persisted number stays meaningful if a size is ever added.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<WindowSize>))]
public enum WindowSize
{
    [JsonStringEnumMemberName("1m")] OneMinute = 1,
    [JsonStringEnumMemberName("15m")] FifteenMinutes = 15,
}

public static class WindowSizeExtensions
{
    public static TimeSpan Duration(this WindowSize size) => size switch
    {
        WindowSize.OneMinute => TimeSpan.FromMinutes(1),
        WindowSize.FifteenMinutes => TimeSpan.FromMinutes(15),
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "unknown window size"),
    };

    /// <summary>"1m" or "15m", as in the topic and table names (aggregates_1m, aggregates_15m).</summary>
    public static string ToWireName(this WindowSize size) => WireName.Of(size);
}

/// <summary>
/// Event-time tumbling windows. The seed's "bucket to the nearest minute" is resolved
/// (ARCHITECTURE) as: floor to the window start, in UTC; start inclusive, end exclusive.
/// Windows are aligned to the UTC epoch, so every node and every replay computes the same
/// boundaries, whatever the reading's offset.
/// </summary>
public static class Window
{
    /// <summary>Start of the window containing <paramref name="timestamp"/>, with offset zero.</summary>
    public static DateTimeOffset Floor(DateTimeOffset timestamp, WindowSize size)
    {
        long length = size.Duration().Ticks;
        long utcTicks = timestamp.UtcTicks;
        return new DateTimeOffset(utcTicks - utcTicks % length, TimeSpan.Zero);
    }

    /// <summary>Exclusive end of the window that starts at <paramref name="windowStart"/>.</summary>
    public static DateTimeOffset End(DateTimeOffset windowStart, WindowSize size) =>
        windowStart.ToUniversalTime() + size.Duration();

    /// <summary>True if <paramref name="timestamp"/> is a window boundary of this size.</summary>
    public static bool IsAligned(DateTimeOffset timestamp, WindowSize size) =>
        timestamp.UtcTicks % size.Duration().Ticks == 0;

    /// <summary>True if <paramref name="timestamp"/> lies in [start, start + size).</summary>
    public static bool Contains(DateTimeOffset windowStart, WindowSize size, DateTimeOffset timestamp) =>
        timestamp >= windowStart && timestamp < windowStart + size.Duration();
}

/// <summary>
/// Identifies one meter's window; the aggregate tables' unique key (meter_id, window_start)
/// plus the size that picks the table. <see cref="Start"/> is always aligned and in UTC, so
/// two keys for the same window are equal and print the same.
/// </summary>
public sealed record WindowKey
{
    public WindowKey(string meterId, WindowSize size, DateTimeOffset start)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterId);
        if (!Window.IsAligned(start, size))
        {
            throw new ArgumentException($"{start:O} is not the start of a {size.ToWireName()} window", nameof(start));
        }

        MeterId = meterId;
        Size = size;
        Start = start.ToUniversalTime();
    }

    public string MeterId { get; }
    public WindowSize Size { get; }
    public DateTimeOffset Start { get; }
    public DateTimeOffset End => Start + Size.Duration();

    /// <summary>The key of the window that contains <paramref name="timestamp"/>.</summary>
    public static WindowKey For(string meterId, WindowSize size, DateTimeOffset timestamp) =>
        new(meterId, size, Window.Floor(timestamp, size));
}
