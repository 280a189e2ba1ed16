using System.Text.Json.Serialization;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Reliability;

namespace SmartGrid.Domain.Telemetry;

[JsonConverter(typeof(JsonStringEnumConverter<AnomalyKind>))]
public enum AnomalyKind
{
    /// <summary>Consumption far above the meter's baseline.</summary>
    [JsonStringEnumMemberName("spike")] Spike = 1,

    /// <summary>Consumption far below the meter's baseline; near zero looks like an outage.</summary>
    [JsonStringEnumMemberName("drop")] Drop = 2,
}

/// <summary>A meter's consumption deviating from its baseline: a message on the anomalies topic.</summary>
public sealed record Anomaly
{
    [JsonPropertyName("meter_id")] public required string MeterId { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("kind")] public required AnomalyKind Kind { get; init; }

    /// <summary>The window start for a window-based detection, the reading's time for a reading.</summary>
    [JsonPropertyName("timestamp")] public required DateTimeOffset Timestamp { get; init; }

    [JsonPropertyName("baseline_kw")] public required double BaselineKw { get; init; }
    [JsonPropertyName("actual_kw")] public required double ActualKw { get; init; }

    /// <summary>(actual - baseline) / baseline in percent: positive for spikes, negative for drops.</summary>
    [JsonPropertyName("deviation_percent")] public required double DeviationPercent { get; init; }

    [JsonPropertyName("severity")] public required Severity Severity { get; init; }
}

/// <summary>
/// Thresholds of the anomaly rule. Every bound is a strict "more than": a spike is a
/// deviation above +100 %, and a spike of exactly +150 % is still low, matching the seed's
/// "spike: &gt;100 % increase", "drop: &gt;50 % decrease" and "&gt;300 % critical".
/// Drop percentages are magnitudes of the decrease (65 means 65 % below baseline).
/// </summary>
public sealed record AnomalyDetectionOptions
{
    public static AnomalyDetectionOptions Default { get; } = new();

    public double SpikeThresholdPercent { get; init; } = 100;
    public double SpikeMediumAbovePercent { get; init; } = 150;
    public double SpikeHighAbovePercent { get; init; } = 200;
    public double SpikeCriticalAbovePercent { get; init; } = 300;

    public double DropThresholdPercent { get; init; } = 50;
    public double DropMediumAbovePercent { get; init; } = 65;
    public double DropHighAbovePercent { get; init; } = 80;

    /// <summary>Above 95 % down the meter draws next to nothing: treated as outage-like.</summary>
    public double DropCriticalAbovePercent { get; init; } = 95;

    /// <summary>
    /// Below this baseline (kW) no anomaly is raised: for a meter that normally draws almost
    /// nothing, a kettle would be a "+2000 %" spike and any percentage is noise.
    /// </summary>
    public double MinBaselineKw { get; init; } = 0.05;
}

/// <summary>
/// Compares a meter's power with its learned baseline and says whether, and how badly, it is
/// anomalous. Stateless; the baseline carries the history.
/// </summary>
public sealed class AnomalyDetector
{
    private readonly AnomalyDetectionOptions _options;

    public AnomalyDetector(AnomalyDetectionOptions? options = null)
    {
        _options = options ?? AnomalyDetectionOptions.Default;
        if (!(_options.SpikeThresholdPercent <= _options.SpikeMediumAbovePercent
              && _options.SpikeMediumAbovePercent <= _options.SpikeHighAbovePercent
              && _options.SpikeHighAbovePercent <= _options.SpikeCriticalAbovePercent))
        {
            throw new ArgumentException("spike thresholds must ascend: threshold <= medium <= high <= critical", nameof(options));
        }

        if (!(_options.DropThresholdPercent <= _options.DropMediumAbovePercent
              && _options.DropMediumAbovePercent <= _options.DropHighAbovePercent
              && _options.DropHighAbovePercent <= _options.DropCriticalAbovePercent))
        {
            throw new ArgumentException("drop thresholds must ascend: threshold <= medium <= high <= critical", nameof(options));
        }

        if (!(_options.MinBaselineKw >= 0))
        {
            throw new ArgumentException("MinBaselineKw must not be negative", nameof(options));
        }
    }

    public AnomalyDetectionOptions Options => _options;

    /// <summary>
    /// Checks a closed window's average power against the baseline's reference at the window's start; a window of
    /// <see cref="IsSupplyLoss">supply loss</see> is no anomaly.
    /// </summary>
    public Anomaly? Detect(WindowAggregate window, MeterBaseline baseline, double nominalVoltage) =>
        window.IsEmpty || IsSupplyLoss(window, nominalVoltage)
            ? null
            : Detect(window.MeterId, window.Region, window.WindowStart, window.PowerKwAvg, baseline.Reference(window.WindowStart));

    /// <summary>
    /// Whether the window's readings say the supply was gone (average voltage under the last gasp's 5 % of nominal):
    /// the meter's last gasp as an outage begins. Its zero power is not what the customer drew, so it is no drop (the
    /// OUTAGE rule reports the outage; a critical drop beside it was a second, false alert for the same event) and
    /// no baseline should learn it.
    /// </summary>
    public static bool IsSupplyLoss(WindowAggregate window, double nominalVoltage) =>
        !window.IsEmpty && window.VoltageAvg < CustomerInterruptions.LastGaspBelow * nominalVoltage;

    /// <summary>
    /// The value a baseline should learn from a window: its power, held inside the band around the reference. A
    /// five-minute spike learned as is lifts an hourly mean so far that the meter's normal draw afterwards reads as a
    /// drop (and a drop as a spike); held to the band, a lasting change of level is still learned, only more slowly.
    /// </summary>
    public double Learnable(double powerKw, double? referenceKw) =>
        referenceKw is not { } reference || !double.IsFinite(reference) || reference <= 0
            ? powerKw
            : Math.Clamp(powerKw, reference * (1 - _options.DropThresholdPercent / 100), reference * (1 + _options.SpikeThresholdPercent / 100));

    /// <summary>Checks a single reading against the baseline at the reading's time.</summary>
    public Anomaly? Detect(TelemetryReading reading, MeterBaseline baseline) =>
        Detect(reading.MeterId, reading.Region ?? Regions.Unassigned, reading.Timestamp, reading.PowerKw, baseline.Expected(reading.Timestamp));

    /// <summary>
    /// The anomaly, or null when power is within bounds, the baseline is not yet established
    /// (<paramref name="baselineKw"/> null) or too small to judge against.
    /// </summary>
    public Anomaly? Detect(string meterId, string region, DateTimeOffset timestamp, double actualKw, double? baselineKw)
    {
        if (baselineKw is not { } baseline || !double.IsFinite(baseline) || baseline < _options.MinBaselineKw
            || baseline <= 0 || !double.IsFinite(actualKw))
        {
            return null;
        }

        double deviation = DeviationPercent(actualKw, baseline);
        AnomalyKind kind;
        if (deviation > _options.SpikeThresholdPercent)
        {
            kind = AnomalyKind.Spike;
        }
        else if (-deviation > _options.DropThresholdPercent)
        {
            kind = AnomalyKind.Drop;
        }
        else
        {
            return null;
        }

        return new Anomaly
        {
            MeterId = meterId,
            Region = region,
            Kind = kind,
            Timestamp = timestamp.ToUniversalTime(),
            BaselineKw = baseline,
            ActualKw = actualKw,
            DeviationPercent = deviation,
            Severity = SeverityOf(kind, Math.Abs(deviation)),
        };
    }

    /// <summary>
    /// (actual - baseline) / baseline in percent. Multiplying before dividing keeps round
    /// inputs exact (35 against 100 is exactly -65), so boundaries behave as written.
    /// </summary>
    public static double DeviationPercent(double actualKw, double baselineKw) =>
        (actualKw - baselineKw) * 100.0 / baselineKw;

    /// <summary>
    /// Severity of an anomaly of <paramref name="kind"/> whose deviation has magnitude
    /// <paramref name="deviationPercent"/> (drops as a positive number: 70 = 70 % below).
    /// Assumes the deviation already passed the kind's threshold.
    /// </summary>
    public Severity SeverityOf(AnomalyKind kind, double deviationPercent) => kind switch
    {
        AnomalyKind.Spike => deviationPercent > _options.SpikeCriticalAbovePercent ? Severity.Critical
            : deviationPercent > _options.SpikeHighAbovePercent ? Severity.High
            : deviationPercent > _options.SpikeMediumAbovePercent ? Severity.Medium
            : Severity.Low,
        AnomalyKind.Drop => deviationPercent > _options.DropCriticalAbovePercent ? Severity.Critical
            : deviationPercent > _options.DropHighAbovePercent ? Severity.High
            : deviationPercent > _options.DropMediumAbovePercent ? Severity.Medium
            : Severity.Low,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown anomaly kind"),
    };
}
