using System.Text.Json.Serialization;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// One meter's statistics over one window: the rows of aggregates_1m / aggregates_15m.
/// It keeps sums and counts rather than averages so that aggregates combine exactly
/// (a 15-minute window is the <see cref="Merge"/> of its 1-minute windows) and so that a
/// late reading can be added to a closed window.
/// <para>
/// Sums are plain double additions in the order readings (or merged windows) arrive.
/// Floating-point addition is not associative: adding the same readings in another order,
/// or merging partial windows, can differ in the last bits. Compare sums with a relative
/// tolerance (1e-9 is ample), never with ==.
/// </para>
/// <para>
/// Duplicates are not detected here: the meter entity drops a reading whose
/// (meter_id, timestamp) it has already accepted before adding it.
/// </para>
/// </summary>
public sealed record WindowAggregate
{
    [JsonPropertyName("meter_id")] public required string MeterId { get; init; }

    /// <summary>
    /// Fixed when the window is created: a window belongs to exactly one region, so a meter
    /// whose readings name different regions is never counted twice in regional load.
    /// </summary>
    [JsonPropertyName("region")] public required string Region { get; init; }

    [JsonPropertyName("window_size")] public required WindowSize Size { get; init; }
    [JsonPropertyName("window_start")] public required DateTimeOffset WindowStart { get; init; }
    [JsonPropertyName("window_end")] public DateTimeOffset WindowEnd => WindowStart + Size.Duration();

    // The statistics live in one value (WindowSums), shared with the meter's compact open windows.
    private WindowSums _sums;

    [JsonPropertyName("reading_count")] public int ReadingCount { get => _sums.ReadingCount; init => _sums.ReadingCount = value; }
    [JsonPropertyName("energy_kwh_sum")] public double EnergyKwhSum { get => _sums.EnergyKwhSum; init => _sums.EnergyKwhSum = value; }
    [JsonPropertyName("power_kw_sum")] public double PowerKwSum { get => _sums.PowerKwSum; init => _sums.PowerKwSum = value; }

    /// <summary>0 while the window is empty.</summary>
    [JsonPropertyName("power_kw_min")] public double PowerKwMin { get => _sums.PowerKwMin; init => _sums.PowerKwMin = value; }

    /// <summary>0 while the window is empty.</summary>
    [JsonPropertyName("power_kw_max")] public double PowerKwMax { get => _sums.PowerKwMax; init => _sums.PowerKwMax = value; }

    [JsonPropertyName("voltage_sum")] public double VoltageSum { get => _sums.VoltageSum; init => _sums.VoltageSum = value; }
    /// <summary>0 while the window is empty; in windows persisted before it was kept, the mean (see MeterSnapshotFormat).</summary>
    [JsonPropertyName("voltage_min")] public double VoltageMin { get => _sums.VoltageMin; init => _sums.VoltageMin = value; }

    /// <summary>0 while the window is empty; in windows persisted before it was kept, the mean.</summary>
    [JsonPropertyName("voltage_max")] public double VoltageMax { get => _sums.VoltageMax; init => _sums.VoltageMax = value; }

    /// <summary>
    /// False for a window published before the extremes were kept: it carries 0 for both beside a
    /// positive voltage sum. With 0 V a valid reading (a last gasp), both at 0 are real only when every
    /// reading was 0, which leaves the sum at 0 too.
    /// </summary>
    [JsonIgnore] public bool HasVoltageExtremes => VoltageMax != 0 || VoltageSum == 0;

    [JsonPropertyName("current_sum")] public double CurrentSum { get => _sums.CurrentSum; init => _sums.CurrentSum = value; }

    /// <summary>power_factor is optional in a reading, so it has its own count.</summary>
    [JsonPropertyName("power_factor_sum")] public double PowerFactorSum { get => _sums.PowerFactorSum; init => _sums.PowerFactorSum = value; }
    [JsonPropertyName("power_factor_count")] public int PowerFactorCount { get => _sums.PowerFactorCount; init => _sums.PowerFactorCount = value; }

    /// <summary>frequency is optional in a reading, so it has its own count.</summary>
    [JsonPropertyName("frequency_sum")] public double FrequencySum { get => _sums.FrequencySum; init => _sums.FrequencySum = value; }
    [JsonPropertyName("frequency_count")] public int FrequencyCount { get => _sums.FrequencyCount; init => _sums.FrequencyCount = value; }

    internal WindowSums Sums => _sums;

    // Averages are derived, never stored, so they cannot disagree with the sums.
    // An empty window reports 0 rather than NaN, which JSON cannot carry.

    [JsonPropertyName("power_kw_avg")] public double PowerKwAvg => ReadingCount == 0 ? 0 : PowerKwSum / ReadingCount;
    [JsonPropertyName("voltage_avg")] public double VoltageAvg => ReadingCount == 0 ? 0 : VoltageSum / ReadingCount;
    [JsonPropertyName("current_avg")] public double CurrentAvg => ReadingCount == 0 ? 0 : CurrentSum / ReadingCount;

    [JsonPropertyName("power_factor_avg")]
    public double? PowerFactorAvg => PowerFactorCount == 0 ? null : PowerFactorSum / PowerFactorCount;

    [JsonPropertyName("frequency_avg")]
    public double? FrequencyAvg => FrequencyCount == 0 ? null : FrequencySum / FrequencyCount;

    [JsonIgnore] public WindowKey Key => new(MeterId, Size, WindowStart);

    [JsonIgnore] public bool IsEmpty => ReadingCount == 0;

    /// <summary>An empty window, e.g. the 15-minute window that 1-minute windows are merged into.</summary>
    public static WindowAggregate Empty(string meterId, string region, WindowSize size, DateTimeOffset windowStart)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterId);
        ArgumentException.ThrowIfNullOrEmpty(region);
        if (!Window.IsAligned(windowStart, size))
        {
            throw new ArgumentException($"{windowStart:O} is not the start of a {size.ToWireName()} window", nameof(windowStart));
        }

        return new WindowAggregate
        {
            MeterId = meterId,
            Region = region,
            Size = size,
            WindowStart = windowStart.ToUniversalTime(),
        };
    }

    /// <summary>
    /// The window of <paramref name="size"/> that contains the reading, holding just that reading.
    /// The region is <paramref name="region"/> if given, else the reading's, else <see cref="Regions.Unassigned"/>.
    /// </summary>
    public static WindowAggregate Of(TelemetryReading reading, WindowSize size, string? region = null) =>
        Empty(reading.MeterId, region ?? reading.Region ?? Regions.Unassigned, size, Window.Floor(reading.Timestamp, size))
            .Add(reading);

    public bool Contains(DateTimeOffset timestamp) => Window.Contains(WindowStart, Size, timestamp);

    /// <summary>This window with one more reading. The reading must be this meter's and fall in this window.</summary>
    public WindowAggregate Add(TelemetryReading reading)
    {
        if (!string.Equals(reading.MeterId, MeterId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"reading of {reading.MeterId} cannot be added to a window of {MeterId}", nameof(reading));
        }

        if (!Contains(reading.Timestamp))
        {
            throw new ArgumentOutOfRangeException(
                nameof(reading), $"reading at {reading.Timestamp:O} is outside [{WindowStart:O}, {WindowEnd:O})");
        }

        var next = this with { };
        next._sums.Add(reading);
        return next;
    }

    /// <summary>
    /// This window combined with <paramref name="other"/>, which must be the same meter's and
    /// lie within this window: two partial aggregates of one window, or a 1-minute window
    /// merged into its 15-minute window. Equals the aggregate over the union of both readings
    /// (sums up to rounding, see the type's remarks). Keeps this window's region and size.
    /// </summary>
    public WindowAggregate Merge(WindowAggregate other)
    {
        if (!string.Equals(other.MeterId, MeterId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"window of {other.MeterId} cannot be merged into a window of {MeterId}", nameof(other));
        }

        if (other.WindowStart < WindowStart || other.WindowEnd > WindowEnd)
        {
            throw new ArgumentOutOfRangeException(
                nameof(other),
                $"[{other.WindowStart:O}, {other.WindowEnd:O}) is not within [{WindowStart:O}, {WindowEnd:O})");
        }

        if (other.ReadingCount == 0)
        {
            return this;
        }

        var merged = this with { };
        merged._sums.Merge(other._sums);
        return merged;
    }

    /// <summary>A window of <paramref name="meterId"/> holding <paramref name="sums"/>, as a meter publishes it.</summary>
    internal static WindowAggregate Of(string meterId, string region, WindowSize size, DateTimeOffset windowStart, in WindowSums sums) =>
        new() { MeterId = meterId, Region = region, Size = size, WindowStart = windowStart, _sums = sums };
}
