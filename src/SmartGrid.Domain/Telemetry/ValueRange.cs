using System.Globalization;

namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// A closed, open or half-open interval of plausible values, used by the reading validator
/// so that each limit is configuration rather than a literal buried in a rule.
/// </summary>
public sealed record ValueRange
{
    public ValueRange(double min, double max, bool minInclusive = true, bool maxInclusive = true)
    {
        if (double.IsNaN(min) || double.IsNaN(max) || min > max)
        {
            throw new ArgumentException($"invalid range: min {min} must not exceed max {max}");
        }

        Min = min;
        Max = max;
        MinInclusive = minInclusive;
        MaxInclusive = maxInclusive;
    }

    public double Min { get; }
    public double Max { get; }
    public bool MinInclusive { get; }
    public bool MaxInclusive { get; }

    public bool Contains(double value) =>
        (MinInclusive ? value >= Min : value > Min) && (MaxInclusive ? value <= Max : value < Max);

    /// <summary>Human-readable bounds for error messages, e.g. "greater than 0 and at most 500".</summary>
    public string Describe()
    {
        string low = (MinInclusive ? "at least " : "greater than ") + Format(Min);
        string high = (MaxInclusive ? "at most " : "less than ") + Format(Max);
        return $"{low} and {high}";
    }

    public override string ToString() =>
        $"{(MinInclusive ? '[' : '(')}{Format(Min)}, {Format(Max)}{(MaxInclusive ? ']' : ')')}";

    private static string Format(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
