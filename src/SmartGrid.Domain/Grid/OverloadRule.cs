namespace SmartGrid.Domain.Grid;

/// <summary>
/// When a region counts as overloaded. The seed's "3+ windows over 85 % within 30 minutes"
/// is evaluated on 1-minute regional windows (ARCHITECTURE: only two 15-minute windows fit).
/// The node binds it as it is, names and defaults included (SmartGrid:Services:Alerts:Overload).
/// </summary>
public sealed record OverloadRuleOptions
{
    public static OverloadRuleOptions Default { get; } = new();

    /// <summary>A window is an overload window when its load is strictly above this (seed: "&gt; 85 %").</summary>
    public double ThresholdPercent { get; init; } = 85;

    /// <summary>Overload windows needed within <see cref="Span"/>; they need not be consecutive.</summary>
    public int WindowsRequired { get; init; } = 3;

    public TimeSpan Span { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// A region's recent overload windows, by window start. Immutable and serialisable so the
/// alert side can persist it; the seed keeps the same set in Redis (region:overload:{region}).
/// <para>
/// Idempotent: windows are a set keyed by start, and a window observed again replaces its
/// earlier verdict (a late reading can lift or lower a window's load), so redelivery never
/// counts a window twice. Windows older than the span, measured back from the newest window
/// start seen, are pruned; time comes only from the events, never from the wall clock.
/// </para>
/// </summary>
public sealed record OverloadState
{
    public static OverloadState Empty { get; } = new();

    private readonly DateTimeOffset[] _overloadWindowStarts = [];

    /// <summary>Starts of the overload windows within the span, ascending, without duplicates.</summary>
    public IReadOnlyList<DateTimeOffset> OverloadWindowStarts
    {
        get => _overloadWindowStarts;
        init => _overloadWindowStarts = value.Select(v => v.ToUniversalTime()).Distinct().Order().ToArray();
    }

    /// <summary>The newest window start observed (overloaded or not); null before the first.</summary>
    public DateTimeOffset? NewestWindowStart { get; init; }

    public bool Equals(OverloadState? other) =>
        other is not null
        && NewestWindowStart == other.NewestWindowStart
        && _overloadWindowStarts.AsSpan().SequenceEqual(other._overloadWindowStarts);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(NewestWindowStart);
        foreach (DateTimeOffset start in _overloadWindowStarts)
        {
            hash.Add(start);
        }

        return hash.ToHashCode();
    }
}

/// <summary>The verdict after one regional window was observed, with the state to keep.</summary>
public sealed record OverloadEvaluation(OverloadState State, int OverloadWindowCount, bool IsOverloaded, bool WasOverloaded)
{
    /// <summary>True only on the observation that crossed into overload: the moment to raise one alert.</summary>
    public bool BecameOverloaded => IsOverloaded && !WasOverloaded;
}

/// <summary>The overload rule applied to a region's stream of 1-minute loads.</summary>
public sealed class OverloadRule
{
    public OverloadRule(OverloadRuleOptions? options = null)
    {
        Options = options ?? OverloadRuleOptions.Default;
        if (Options.WindowsRequired < 1)
        {
            throw new ArgumentException("WindowsRequired must be at least 1", nameof(options));
        }

        if (Options.Span <= TimeSpan.Zero)
        {
            throw new ArgumentException("Span must be positive", nameof(options));
        }

        if (double.IsNaN(Options.ThresholdPercent))
        {
            throw new ArgumentException("ThresholdPercent must be a number", nameof(options));
        }
    }

    public OverloadRuleOptions Options { get; }

    public bool IsOverloadWindow(double loadPercent) => loadPercent > Options.ThresholdPercent;

    /// <summary>Overload windows of <paramref name="state"/> within the span ending at its newest window.</summary>
    public int CountInSpan(OverloadState state) =>
        state.NewestWindowStart is { } newest
            ? state.OverloadWindowStarts.Count(start => InSpan(start, newest))
            : 0;

    public bool IsOverloaded(OverloadState state) => CountInSpan(state) >= Options.WindowsRequired;

    public OverloadEvaluation Evaluate(OverloadState state, RegionalAggregate window) =>
        Evaluate(state, window.WindowStart, window.LoadPercent);

    /// <summary>Records the window's verdict, prunes what fell out of the span, and evaluates the rule.</summary>
    public OverloadEvaluation Evaluate(OverloadState state, DateTimeOffset windowStart, double loadPercent)
    {
        bool was = IsOverloaded(state);
        DateTimeOffset start = windowStart.ToUniversalTime();
        DateTimeOffset newest = state.NewestWindowStart is { } previous && previous > start ? previous : start;

        // Windows are in the span when they start after newest - span: with 1-minute windows
        // and a 30-minute span that is the 30 windows ending with the newest one.
        var starts = new List<DateTimeOffset>(state.OverloadWindowStarts.Count + 1);
        foreach (DateTimeOffset existing in state.OverloadWindowStarts)
        {
            if (existing != start && InSpan(existing, newest))
            {
                starts.Add(existing);
            }
        }

        if (IsOverloadWindow(loadPercent) && InSpan(start, newest))
        {
            starts.Add(start);
        }

        var next = new OverloadState { OverloadWindowStarts = starts, NewestWindowStart = newest };
        int count = starts.Count;
        return new OverloadEvaluation(next, count, count >= Options.WindowsRequired, was);
    }

    private bool InSpan(DateTimeOffset start, DateTimeOffset newest) => start > newest - Options.Span && start <= newest;
}
