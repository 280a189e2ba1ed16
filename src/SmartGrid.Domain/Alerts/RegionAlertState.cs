using System.Globalization;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Alerts;

/// <summary>
/// The alert rules of a region's 1-minute loads, with everything they need besides the loads: when
/// a region is overloaded (<see cref="Rule"/>), how severe its alert is, and after how long below the
/// threshold the alert resolves itself. Values come from SmartGrid:Services:Alerts (AlertSettings),
/// where their defaults live; this type has none of its own.
/// </summary>
public sealed record RegionAlertPolicy(OverloadRule Rule, double CriticalLoadPercent, TimeSpan AutoResolveAfter)
{
    public Severity SeverityAt(double loadPercent) => loadPercent >= CriticalLoadPercent ? Severity.Critical : Severity.High;
}

/// <summary>One revision of a region's 1-minute load, as the regional_aggregates topic carries it.</summary>
public sealed record RegionLoadObserved(string Region, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, double LoadPercent, int Revision);

/// <summary>What <see cref="RegionAlertState.Decide"/> found in one observed load; an empty list means it was applied already.</summary>
public interface IRegionAlertEvent;

/// <summary>The window's load counts (a first revision or a newer one): the state moves on with it.</summary>
public sealed record RegionLoadRecorded(DateTimeOffset WindowStart, DateTimeOffset WindowEnd, double LoadPercent, int Revision) : IRegionAlertEvent;

/// <summary>
/// The region is overloaded and this window is a newly counted overload window: raise an overload alert, or
/// count it again on the region's open one.
/// </summary>
public sealed record OverloadRaised(string Region, Severity Severity, double LoadPercent, int OverloadWindows, DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd) : IRegionAlertEvent;

/// <summary>The load stayed at or under the threshold for the policy's AutoResolveAfter: resolve the region's open overload alert.</summary>
public sealed record OverloadAutoResolved(string Region, DateTimeOffset BelowSince, DateTimeOffset WindowEnd) : IRegionAlertEvent;

/// <summary>
/// The AlertManager's overload bookkeeping for one region: the overload windows within the rule's span,
/// the revisions of the windows already applied (so a redelivered window changes nothing), and since
/// when the load has stayed at or under the threshold (for auto-resolve). Stored as JSON (snake_case)
/// in alert_region_state; time comes only from the windows, never from the wall clock.
/// <para>
/// <see cref="Decide"/> is pure and returns the next state with what to do; the manager stores the
/// next state and the alert in one transaction. New rules (hysteresis, storm grouping, escalation) are
/// further fields here and further outcomes of <see cref="LoadRecorded"/>.
/// </para>
/// </summary>
public sealed record RegionAlertState
{
    public static RegionAlertState Empty { get; } = new();

    public List<DateTimeOffset> OverloadWindowStarts { get; init; } = [];
    public DateTimeOffset? NewestWindowStart { get; init; }

    /// <summary>Newest revision applied per 1-minute window start (ISO 8601), within the rule's span.</summary>
    public Dictionary<string, int> Revisions { get; init; } = [];

    /// <summary>Start of the first window of the current run at or under the threshold; null while overloaded.</summary>
    public DateTimeOffset? BelowSince { get; init; }

    /// <summary>The events one observed load causes, without touching this instance; none when it was applied already.</summary>
    public IReadOnlyList<IRegionAlertEvent> Decide(RegionLoadObserved load, RegionAlertPolicy policy)
    {
        var start = load.WindowStart.ToUniversalTime();
        var end = load.WindowEnd > load.WindowStart ? load.WindowEnd.ToUniversalTime() : start.AddMinutes(1);
        if (Revisions.TryGetValue(Key(start), out var applied) && load.Revision <= applied)
            return [];

        var recorded = new RegionLoadRecorded(start, end, load.LoadPercent, load.Revision);
        var rule = policy.Rule;
        if (rule.IsOverloadWindow(load.LoadPercent))
        {
            var evaluation = rule.Evaluate(Overload, start, load.LoadPercent);
            return evaluation.IsOverloaded && !OverloadWindowStarts.Contains(start)
                ? [recorded, new OverloadRaised(load.Region, policy.SeverityAt(load.LoadPercent), load.LoadPercent, evaluation.OverloadWindowCount, start, end)]
                : [recorded];
        }

        var belowSince = BelowSince is { } since && since <= start ? since : start;
        return end - belowSince >= policy.AutoResolveAfter
            ? [recorded, new OverloadAutoResolved(load.Region, belowSince, end)]
            : [recorded];
    }

    /// <summary>The only mutator: the state after <paramref name="e"/>. Alerts raised or resolved change nothing here.</summary>
    public RegionAlertState Apply(IRegionAlertEvent e, RegionAlertPolicy policy)
    {
        if (e is not RegionLoadRecorded load) return this;
        var rule = policy.Rule;
        var evaluation = rule.Evaluate(Overload, load.WindowStart, load.LoadPercent);
        var newest = evaluation.State.NewestWindowStart!.Value;
        var revisions = Revisions
            .Where(r => DateTimeOffset.Parse(r.Key, CultureInfo.InvariantCulture) > newest - rule.Options.Span)
            .ToDictionary(r => r.Key, r => r.Value);
        revisions[Key(load.WindowStart)] = load.Revision;
        var below = !rule.IsOverloadWindow(load.LoadPercent);
        return new RegionAlertState
        {
            OverloadWindowStarts = evaluation.State.OverloadWindowStarts.ToList(),
            NewestWindowStart = newest,
            Revisions = revisions,
            BelowSince = !below ? null : BelowSince is { } since && since <= load.WindowStart ? since : load.WindowStart,
        };
    }

    /// <summary>
    /// Whether the region is overloaded now: its newest window counts towards the rule (a method: not part of the stored state). An operator's resolve then
    /// keeps the alert open, since the next overload window would raise it again at once.
    /// </summary>
    public bool OverloadContinues() => NewestWindowStart is not null && BelowSince is null && OverloadWindowStarts.Count > 0;

    /// <summary>
    /// The state after an operator resolved the region's overload once its load was back under the threshold: the
    /// windows counted so far are forgotten, so a new alert needs a full run of overload windows, not one more.
    /// </summary>
    public RegionAlertState ResolvedByOperator() => this with { OverloadWindowStarts = [] };

    private OverloadState Overload => new() { OverloadWindowStarts = OverloadWindowStarts, NewestWindowStart = NewestWindowStart };

    private static string Key(DateTimeOffset windowStart) => windowStart.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
}
