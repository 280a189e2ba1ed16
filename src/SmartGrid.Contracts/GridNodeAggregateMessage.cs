using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Contracts;

/// <summary>
/// A grid_node_aggregates message: one transformer's or feeder's load over a window, published by the regional projection
/// with its region's window (same revision), keyed by node id; (node_id, window_size, window_start) identifies a window and
/// revision orders its versions. Property order is the JSON's field order.
/// </summary>
public sealed record GridNodeAggregateMessage
{
    public required string NodeId { get; init; }
    /// <summary>"transformer" or "feeder".</summary>
    public required string Kind { get; init; }
    public required string Region { get; init; }
    /// <summary>"1m" or "15m".</summary>
    public required string WindowSize { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public DateTimeOffset WindowEnd { get; init; }
    public int MeterCount { get; init; }
    public int ExpectedMeters { get; init; }
    public double TotalPowerKw { get; init; }
    public double RatedKw { get; init; }
    public required double LoadPercent { get; init; }
    public int Revision { get; init; }

    public static GridNodeAggregateMessage From(GridNodeAggregate node, int revision) => new()
    {
        NodeId = node.NodeId,
        Kind = node.Kind.Name(),
        Region = node.Region,
        WindowSize = node.Size.ToWireName(),
        WindowStart = node.WindowStart,
        WindowEnd = node.WindowEnd,
        MeterCount = node.MeterCount,
        ExpectedMeters = node.ExpectedMeters,
        TotalPowerKw = node.TotalPowerKw,
        RatedKw = node.RatedKw,
        LoadPercent = node.LoadPercent,
        Revision = revision,
    };
}
