using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Metering;

/// <summary>How a meter closes windows and remembers readings; event time throughout.</summary>
public sealed record MeterPolicy
{
    /// <summary>A window is final once the meter's watermark passes its end by this much.</summary>
    public TimeSpan AllowedLateness { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How far behind the watermark reading timestamps are remembered for de-duplication.
    /// Must cover the 15-minute window plus lateness, so a replayed reading is recognised for
    /// as long as it could still change an aggregate.
    /// </summary>
    public TimeSpan DedupHorizon { get; init; } = TimeSpan.FromMinutes(30);

    public AnomalyDetector Detector { get; init; } = new();

    /// <summary>
    /// The nominal voltage of a region (the regions table), which sags and swells are measured
    /// against. Read as readings are applied, also in recovery: change a region's nominal voltage
    /// and the runs open at that moment are judged by the new one from then on.
    /// </summary>
    public Func<string, double> NominalVoltage { get; init; } = _ => Grid.Regions.DefaultNominalVoltage;
}
