namespace SmartGrid.Channels;

/// <summary>
/// A user's quiet hours (notification_preferences.quiet_hours_start / _end, time of day in UTC:
/// the columns are <c>time</c> without zone). The window starts at <see cref="Start"/> inclusive and
/// ends at <see cref="End"/> exclusive; a start after the end wraps past midnight (22:00–06:00).
/// Equal ends make an empty window (the gateway refuses them; a row written by hand must not mute a user all day).
/// </summary>
public readonly record struct QuietHours(TimeOnly Start, TimeOnly End)
{
    /// <summary>The channels that wake a person up; email and webhooks wait in an inbox and still go.</summary>
    private static readonly string[] Intrusive = ["sms", "push"];

    /// <summary>Both columns set, or no quiet hours.</summary>
    public static QuietHours? From(TimeOnly? start, TimeOnly? end) => start is { } s && end is { } e ? new QuietHours(s, e) : null;

    public bool Contains(TimeOnly time) =>
        Start < End ? time >= Start && time < End
        : Start > End && (time >= Start || time < End);

    /// <summary>
    /// Whether a delivery on <paramref name="channel"/> is held back at <paramref name="now"/>: an
    /// SMS or push during the recipient's quiet hours, unless the event is critical.
    /// <paramref name="severity"/> is null for events without one (tariff changes), which are never critical.
    /// </summary>
    public static bool HoldsBack(QuietHours? quietHours, string channel, string? severity, DateTimeOffset now) =>
        quietHours is { } window
        && Intrusive.Contains(channel)
        && !string.Equals(severity, "critical", StringComparison.OrdinalIgnoreCase)
        && window.Contains(TimeOnly.FromDateTime(now.UtcDateTime));
}
