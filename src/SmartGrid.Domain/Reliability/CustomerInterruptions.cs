using System.Text.Json.Serialization;

namespace SmartGrid.Domain.Reliability;

/// <summary>How a customer interruption was seen to start.</summary>
public enum InterruptionStart
{
    /// <summary>A reading below 5 % of nominal: the meter's last gasp.</summary>
    [JsonStringEnumMemberName("last-gasp")] LastGasp = 1,

    /// <summary>The meter fell silent: its last reading plus one reporting interval.</summary>
    [JsonStringEnumMemberName("silence")] Silence = 2,
}

/// <summary>
/// One customer interruption of a meter (IEEE 1366): <see cref="End"/> is its first reading back
/// above 90 % of nominal, null while none came. Sustained when longer than 5 minutes, else momentary.
/// (MeterId, Start) is its identity.
/// </summary>
public sealed record CustomerInterruption(string MeterId, DateTimeOffset Start, DateTimeOffset? End, InterruptionStart StartedBy)
{
    public static readonly TimeSpan SustainedAfter = TimeSpan.FromMinutes(5);

    /// <summary>Its length, up to <paramref name="asOf"/> while it lasts.</summary>
    public TimeSpan Duration(DateTimeOffset asOf) => (End ?? (asOf > Start ? asOf : Start)) - Start;

    public bool IsSustained(DateTimeOffset asOf) => Duration(asOf) > SustainedAfter;

    public static string WireName(InterruptionStart by) => Domain.WireName.Of(by);

    public static InterruptionStart ParseStart(string name) => Domain.WireName.Parse<InterruptionStart>(name);
}

/// <summary>
/// Finds a meter's customer interruptions in its readings. A reading below 5 % of nominal starts one
/// (last gasp); so does silence: when the next reading comes more than two reporting intervals after
/// the last (one missed reading is a lost message, not an outage), or none has come by the time
/// asked, the interruption starts at the last reading plus one interval. It ends at the first
/// reading above 90 % of nominal; readings between 5 % and 90 % (a supply coming back low) do not
/// end it, and a reading at or below 5 % during an interruption starts no second one.
/// <para>
/// The reporting interval is the meter's own, learned: the gap between its two newest readings
/// before the one being judged. Meters report on different cadences and a head-end can change one;
/// a fixed setting would take every slower meter's every gap for an outage. A meter heard once has no
/// interval yet, so its silence starts nothing until it reports again.
/// </para>
/// </summary>
public static class CustomerInterruptions
{
    public const double LastGaspBelow = 0.05;
    public const double RestoredAbove = 0.90;

    /// <summary>Readings in time order; <paramref name="asOf"/> is "now", for a meter silent since its last reading.</summary>
    public static IReadOnlyList<CustomerInterruption> Find(string meterId, IEnumerable<(DateTimeOffset At, double Voltage)> readings,
        double nominal, DateTimeOffset asOf)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nominal);
        var found = new Dictionary<DateTimeOffset, CustomerInterruption>();
        var watch = new InterruptionWatch();
        long last = 0;
        List<CustomerInterruption>? observed = null;
        foreach (var (at, voltage) in readings)
        {
            if (last != 0 && at.UtcTicks < last)
                throw new ArgumentException($"readings must be in time order: {at:O} after {new DateTimeOffset(last, TimeSpan.Zero):O}", nameof(readings));
            watch.Observe(meterId, last, at.UtcTicks, voltage, nominal, ref observed);
            last = at.UtcTicks;
        }
        foreach (var i in observed ?? []) found[i.Start] = i;
        if (!watch.Open && last != 0 && SilenceStart(new DateTimeOffset(last, TimeSpan.Zero), watch.Cadence, asOf) is { } silent)
            found[silent] = new CustomerInterruption(meterId, silent, null, InterruptionStart.Silence);
        return found.Values.OrderBy(i => i.Start).ToList();
    }

    /// <summary>
    /// When a meter whose newest reading is <paramref name="last"/>, reporting every <paramref name="cadence"/>,
    /// is out by <paramref name="asOf"/> for having fallen silent: one interval after its last reading, once
    /// more than two intervals passed; null while it is not overdue or has no cadence.
    /// </summary>
    public static DateTimeOffset? SilenceStart(DateTimeOffset last, TimeSpan? cadence, DateTimeOffset asOf) =>
        cadence is { Ticks: > 0 } c && asOf - last > 2 * c ? last + c : null;
}

/// <summary>
/// A meter's customer-interruption state, kept in its state beside the voltage run: its learned reporting
/// interval and the interruption in progress, if any (24 bytes). Fed by the meter's newest readings only.
/// </summary>
internal struct InterruptionWatch
{
    /// <summary>The gap between the meter's two newest readings; 0 until it has two.</summary>
    public long CadenceTicks;
    /// <summary>0 while no interruption is open.</summary>
    public long OpenStartTicks;
    public InterruptionStart OpenBy;

    public readonly bool Open => OpenStartTicks != 0;

    public readonly TimeSpan? Cadence => CadenceTicks > 0 ? new TimeSpan(CadenceTicks) : null;

    /// <summary>
    /// One more reading at <paramref name="ticks"/>, newer than the meter's previous newest <paramref name="lastTicks"/>
    /// (0 for its first). Adds to <paramref name="observed"/> (created on need) an interruption that starts (no end) or ends
    /// here; one that silence started and this very reading ends is added once, ended.
    /// </summary>
    public void Observe(string meterId, long lastTicks, long ticks, double voltage, double nominal, ref List<CustomerInterruption>? observed)
    {
        var startedHere = false;
        if (!Open && lastTicks != 0 && CadenceTicks > 0 && ticks - lastTicks > 2 * CadenceTicks)
            (OpenStartTicks, OpenBy, startedHere) = (lastTicks + CadenceTicks, InterruptionStart.Silence, true);
        if (Open && voltage > CustomerInterruptions.RestoredAbove * nominal)
        {
            (observed ??= []).Add(ToInterruption(meterId, new DateTimeOffset(ticks, TimeSpan.Zero)));
            OpenStartTicks = 0;
            OpenBy = default;
            startedHere = false;
        }
        else if (!Open && voltage < CustomerInterruptions.LastGaspBelow * nominal)
            (OpenStartTicks, OpenBy, startedHere) = (ticks, InterruptionStart.LastGasp, true);
        if (startedHere)
            (observed ??= []).Add(ToInterruption(meterId, end: null));
        if (lastTicks != 0)
            CadenceTicks = ticks - lastTicks;
    }

    public readonly CustomerInterruption ToInterruption(string meterId, DateTimeOffset? end) =>
        new(meterId, new DateTimeOffset(OpenStartTicks, TimeSpan.Zero), end, OpenBy);
}
