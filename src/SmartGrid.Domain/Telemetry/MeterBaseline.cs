using System.Text.Json.Serialization;

namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// What a meter normally draws at each hour of the day, learned from its own history: an
/// exponentially weighted mean of power per slot, one slot per hour of a weekday (Monday to Friday)
/// and one per hour of a weekend day. Consumption follows the clock (cooking at 19:00, offices at
/// 11:00) and the week (an office closed on Sunday is open on Monday), so Monday 11:00 is judged
/// only against what weekdays drew at 11:00, never against Sunday's.
/// <para>
/// Feed it one value per closed window (e.g. a window's average power) after comparing that
/// value with <see cref="Expected"/>, so an anomaly is not judged against itself. The memory
/// is about 1/alpha observations of that slot: with 1-minute windows and alpha 0.1 roughly
/// the last ten minutes seen at that hour; with 15-minute windows about two and a half days.
/// </para>
/// <para>
/// Immutable and serialisable (public init properties, arrays of 48: weekday hours 0-23, then
/// weekend hours 0-23) so the meter entity can persist it in its snapshot. Arrays of 24, written
/// before slots had day types, still load: each hour's history is copied into both day types, the
/// best guess there is, and the weekend slots drift to their own values as the meter is observed.
/// Equality compares the slot contents.
/// </para>
/// </summary>
public sealed record MeterBaseline
{
    public const int HoursPerDay = 24;
    public const int SlotCount = 2 * HoursPerDay;
    public const double DefaultAlpha = 0.1;
    public const int DefaultMinSamples = 10;

    private readonly double _alpha = DefaultAlpha;
    private readonly int _minSamples = DefaultMinSamples;
    private readonly int _utcOffsetMinutes;
    private readonly double[] _means = new double[SlotCount];
    private readonly int[] _counts = new int[SlotCount];

    /// <summary>Weight of a new observation once the slot has more than 1/alpha samples; in (0, 1].</summary>
    [JsonPropertyName("alpha")]
    public double Alpha
    {
        get => _alpha;
        init => _alpha = value is > 0 and <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Alpha), value, "alpha must be in (0, 1]");
    }

    /// <summary>Samples a slot needs before <see cref="Expected"/> answers for it.</summary>
    [JsonPropertyName("min_samples")]
    public int MinSamples
    {
        get => _minSamples;
        init => _minSamples = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MinSamples), value, "at least one sample is needed");
    }

    /// <summary>
    /// Offset (minutes) of the clock whose hours are the slots: 0 = UTC hours (the default),
    /// 330 = India Standard Time, so slot 19 is 19:00-19:59 local.
    /// </summary>
    [JsonPropertyName("utc_offset_minutes")]
    public int UtcOffsetMinutes
    {
        get => _utcOffsetMinutes;
        init => _utcOffsetMinutes = value is > -24 * 60 and < 24 * 60
            ? value
            : throw new ArgumentOutOfRangeException(nameof(UtcOffsetMinutes), value, "offset must be within a day");
    }

    /// <summary>Mean power (kW) per slot; 0 for a slot never observed.</summary>
    [JsonPropertyName("means")]
    public IReadOnlyList<double> Means
    {
        get => _means;
        init => _means = CopySlots(value, nameof(Means));
    }

    /// <summary>Observations per slot.</summary>
    [JsonPropertyName("counts")]
    public IReadOnlyList<int> Counts
    {
        get => _counts;
        init => _counts = CopySlots(value, nameof(Counts));
    }

    public static MeterBaseline Create(double alpha = DefaultAlpha, int minSamples = DefaultMinSamples, TimeSpan? slotClockOffset = null) =>
        new()
        {
            Alpha = alpha,
            MinSamples = minSamples,
            UtcOffsetMinutes = (int)(slotClockOffset ?? TimeSpan.Zero).TotalMinutes,
        };

    /// <summary>
    /// The slot of an instant on the baseline's clock: its hour (0-23) on a weekday, 24 + its hour on a
    /// Saturday or Sunday. The day type is taken on the same local clock as the hour, so a region ahead
    /// of UTC starts its weekend when its own Saturday does.
    /// </summary>
    public int SlotOf(DateTimeOffset at)
    {
        DateTime local = at.UtcDateTime + TimeSpan.FromMinutes(_utcOffsetMinutes);
        return IsWeekend(local) ? HoursPerDay + local.Hour : local.Hour;
    }

    public int SamplesAt(DateTimeOffset at) => _counts[SlotOf(at)];

    public bool IsEstablished(DateTimeOffset at) => SamplesAt(at) >= _minSamples;

    /// <summary>Normal power (kW) at this time of day, or null until the slot is established.</summary>
    public double? Expected(DateTimeOffset at)
    {
        int slot = SlotOf(at);
        return _counts[slot] >= _minSamples ? _means[slot] : null;
    }

    /// <summary>
    /// What power at <paramref name="at"/> is judged against: this hour's <see cref="Expected"/>, or while its slot is
    /// still young (the first minutes of every hour) the hour before's. With alpha 0.1 a slot's mean is about its last
    /// ten minutes, so the previous hour's is what the meter drew just now; without it each hour would start blind.
    /// The hour before only stands in when it is of the same day type: Sunday 23:00 says nothing about how an office
    /// draws on Monday, so Monday's first hour waits for its own slot rather than be judged against the weekend.
    /// </summary>
    public double? Reference(DateTimeOffset at)
    {
        DateTimeOffset hourBefore = at.AddHours(-1);
        return Expected(at) ?? (IsWeekendSlot(SlotOf(hourBefore)) == IsWeekendSlot(SlotOf(at)) ? Expected(hourBefore) : null);
    }

    /// <summary>The baseline after one more observation of power at <paramref name="at"/>.</summary>
    public MeterBaseline Observe(DateTimeOffset at, double powerKw)
    {
        if (!double.IsFinite(powerKw))
        {
            throw new ArgumentOutOfRangeException(nameof(powerKw), powerKw, "power must be a finite number");
        }

        int slot = SlotOf(at);
        int count = _counts[slot] == int.MaxValue ? int.MaxValue : _counts[slot] + 1;

        // A plain EWMA seeded with 0 (or with the first value) is biased for its first ~1/alpha
        // samples. Weighting by max(alpha, 1/n) makes the first samples an arithmetic mean and
        // hands over to the EWMA once 1/n drops below alpha, so an established slot starts
        // from an honest average.
        double weight = Math.Max(_alpha, 1.0 / count);
        double[] means = (double[])_means.Clone();
        int[] counts = (int[])_counts.Clone();
        means[slot] += weight * (powerKw - means[slot]);
        counts[slot] = count;
        return this with { Means = means, Counts = counts };
    }

    public bool Equals(MeterBaseline? other) =>
        other is not null
        && _alpha.Equals(other._alpha)
        && _minSamples == other._minSamples
        && _utcOffsetMinutes == other._utcOffsetMinutes
        && _means.AsSpan().SequenceEqual(other._means)
        && _counts.AsSpan().SequenceEqual(other._counts);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(_alpha);
        hash.Add(_minSamples);
        hash.Add(_utcOffsetMinutes);
        foreach (double mean in _means)
        {
            hash.Add(mean);
        }

        foreach (int count in _counts)
        {
            hash.Add(count);
        }

        return hash.ToHashCode();
    }

    private static bool IsWeekend(DateTime local) => local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;

    private static bool IsWeekendSlot(int slot) => slot >= HoursPerDay;

    private static T[] CopySlots<T>(IReadOnlyList<T> value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);

        // Copy so that no caller keeps a handle that could mutate this immutable value.
        return value.Count switch
        {
            SlotCount => value.ToArray(),
            HoursPerDay => [.. value, .. value],
            _ => throw new ArgumentException($"{name} must have {SlotCount} slots (or {HoursPerDay} from before day types), not {value.Count}", name),
        };
    }
}
