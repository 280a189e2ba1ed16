using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Contracts;

/// <summary>
/// A regional_aggregates message, as the pipeline's regional projection publishes it and the alert and
/// tariff managers read it; (region, window_size, window_start) identifies a window and revision orders
/// its versions. Property order is the JSON's field order.
/// </summary>
public sealed record RegionalAggregateMessage
{
    public required string Region { get; init; }
    /// <summary>"1m" or "15m".</summary>
    public required string WindowSize { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public DateTimeOffset WindowEnd { get; init; }
    public int MeterCount { get; init; }
    public double TotalPowerKw { get; init; }
    public double AvgPowerKw { get; init; }
    public double EnergyKwhSum { get; init; }
    public int ReadingCount { get; init; }
    public double CapacityKw { get; init; }
    public required double LoadPercentage { get; init; }
    public int Revision { get; init; }

    /// <summary>The message of one emitted revision of a regional window.</summary>
    public static RegionalAggregateMessage From(RegionalAggregate aggregate, int revision) => new()
    {
        Region = aggregate.Region,
        WindowSize = aggregate.Size.ToWireName(),
        WindowStart = aggregate.WindowStart,
        WindowEnd = aggregate.WindowEnd,
        MeterCount = aggregate.MeterCount,
        TotalPowerKw = aggregate.TotalPowerKw,
        AvgPowerKw = aggregate.AvgPowerKw,
        EnergyKwhSum = aggregate.EnergyKwhSum,
        ReadingCount = aggregate.ReadingCount,
        CapacityKw = aggregate.CapacityKw,
        LoadPercentage = aggregate.LoadPercent,
        Revision = revision,
    };
}
