using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Reliability;

/// <summary>
/// What a region's other meters say about a meter's silence: whether it was the grid's (the meter lost its supply)
/// or the platform's (the node was stopped, the ingest path was down, a head-end stopped forwarding). A silent meter
/// cannot tell the two apart by itself: when the platform hears nothing, every meter falls silent at once, and each
/// decides a silence-started interruption when it reports again. Its peers can: while the grid fails under one
/// transformer, the rest of the region keeps reporting; while the platform is off, nobody does.
/// <para>
/// The rule. A last-gasp interruption always counts: the meter itself said its supply failed. A silence counts when it
/// is corroborated, either by a peer's last gasp (another meter of the region gasped within
/// <see cref="GaspCorroborates"/> of its start: the grid did fail there and then) or by peers heard while it was silent:
/// another meter of the region reported in the first whole minute after the one it started in (the region's
/// 1-minute windows, <c>regional_aggregates_1m</c>, hold how many meters were heard each minute; the meter itself is
/// discounted from that minute when its silence ended before the minute did). Otherwise it is the platform's and is
/// not counted. A silence whose first whole minute has not ended by the time asked is not counted yet.
/// </para>
/// <para>
/// The price: a whole region falling silent at once without a single last gasp (a region-wide blackout in which no
/// meter gasps) is taken for the platform's, since it looks exactly like the region's ingest path going down; and a
/// platform stop shorter than about two minutes still shows as momentary interruptions, since its peers are heard
/// again within the minute judged.
/// </para>
/// </summary>
public sealed class SilenceEvidence
{
    /// <summary>A peer's last gasp this close to a silence's start shows the grid failed there.</summary>
    public static readonly TimeSpan GaspCorroborates = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Minute = WindowSize.OneMinute.Duration();

    private readonly IReadOnlyDictionary<DateTimeOffset, int> _metersHeard;
    private readonly IReadOnlyList<(string MeterId, DateTimeOffset At)> _gasps;

    /// <param name="metersHeardByMinute">The region's 1-minute windows: window start (UTC) → meters heard in it; a minute absent heard nobody.</param>
    /// <param name="lastGasps">The region's last-gasp interruption starts, by meter.</param>
    public SilenceEvidence(IReadOnlyDictionary<DateTimeOffset, int> metersHeardByMinute, IEnumerable<(string MeterId, DateTimeOffset At)> lastGasps)
    {
        ArgumentNullException.ThrowIfNull(metersHeardByMinute);
        ArgumentNullException.ThrowIfNull(lastGasps);
        _metersHeard = metersHeardByMinute;
        _gasps = lastGasps.ToList();
    }

    /// <summary>The first whole minute of a silence that starts at <paramref name="start"/>: the one its peers are judged by.</summary>
    public static DateTimeOffset JudgedMinute(DateTimeOffset start) => Window.Floor(start, WindowSize.OneMinute) + Minute;

    /// <summary>Whether <paramref name="interruption"/> is the grid's and counts, asked at <paramref name="asOf"/>.</summary>
    public bool Counts(CustomerInterruption interruption, DateTimeOffset asOf)
    {
        ArgumentNullException.ThrowIfNull(interruption);
        if (interruption.StartedBy == InterruptionStart.LastGasp)
            return true;
        if (_gasps.Any(g => g.MeterId != interruption.MeterId && (g.At - interruption.Start).Duration() <= GaspCorroborates))
            return true;
        var judged = JudgedMinute(interruption.Start);
        if (judged + Minute > asOf)
            return false;
        var itself = interruption.End is { } end && end < judged + Minute ? 1 : 0;
        return _metersHeard.GetValueOrDefault(judged.ToUniversalTime()) - itself > 0;
    }
}
