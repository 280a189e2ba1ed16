namespace SmartGrid.Domain.Reliability;

/// <summary>How a customer interruption was seen to start.</summary>
public enum InterruptionStart
{
    /// <summary>A reading below 5 % of nominal: the meter's last gasp.</summary>
    LastGasp = 1,

    /// <summary>The meter fell silent: its last reading plus one reporting interval.</summary>
    Silence = 2,
}

/// <summary>
/// One customer interruption of a meter (IEEE 1366): <see cref="End"/> is its first reading back
/// above 90 % of nominal, null while none came. Sustained when longer than 5 minutes, else momentary.
/// </summary>
public sealed record CustomerInterruption(string MeterId, DateTimeOffset Start, DateTimeOffset? End, InterruptionStart StartedBy)
{
    public static readonly TimeSpan SustainedAfter = TimeSpan.FromMinutes(5);

    /// <summary>Its length, up to <paramref name="asOf"/> while it lasts.</summary>
    public TimeSpan Duration(DateTimeOffset asOf) => (End ?? (asOf > Start ? asOf : Start)) - Start;

    public bool IsSustained(DateTimeOffset asOf) => Duration(asOf) > SustainedAfter;
}

/// <summary>
/// Finds a meter's customer interruptions in its readings. A reading below 5 % of nominal starts one
/// (last gasp); so does silence: when the next reading comes more than two reporting intervals after
/// the last (one missed reading is a lost message, not an outage), or none has come by the time
/// asked, the interruption starts at the last reading plus one interval. It ends at the first
/// reading above 90 % of nominal; readings between 5 % and 90 % (a supply coming back low) do not
/// end it, and a reading at or below 5 % during an interruption starts no second one.
/// </summary>
public static class CustomerInterruptions
{
    public const double LastGaspBelow = 0.05;
    public const double RestoredAbove = 0.90;

    /// <summary>Readings in time order; <paramref name="asOf"/> is "now", for a meter silent since its last reading.</summary>
    public static IReadOnlyList<CustomerInterruption> Find(string meterId, IEnumerable<(DateTimeOffset At, double Voltage)> readings,
        double nominal, TimeSpan interval, DateTimeOffset asOf)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nominal);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var found = new List<CustomerInterruption>();
        (DateTimeOffset Start, InterruptionStart By)? open = null;
        DateTimeOffset? last = null;
        foreach (var (at, voltage) in readings)
        {
            if (last is { } previous && at < previous)
                throw new ArgumentException($"readings must be in time order: {at:O} after {previous:O}", nameof(readings));
            if (open is null && last is { } before && at - before > 2 * interval)
                open = (before + interval, InterruptionStart.Silence);
            if (open is { } o && voltage > RestoredAbove * nominal)
            {
                found.Add(new CustomerInterruption(meterId, o.Start, at, o.By));
                open = null;
            }
            else if (open is null && voltage < LastGaspBelow * nominal)
                open = (at, InterruptionStart.LastGasp);
            last = at;
        }
        if (open is null && last is { } silentSince && asOf - silentSince > 2 * interval)
            open = (silentSince + interval, InterruptionStart.Silence);
        if (open is { } stillOpen)
            found.Add(new CustomerInterruption(meterId, stillOpen.Start, null, stillOpen.By));
        return found;
    }
}
