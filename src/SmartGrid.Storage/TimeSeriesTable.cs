using System.Globalization;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>How the time-series tables of a database are partitioned; decided once by migration 0001.</summary>
public enum TimeSeriesMode
{
    /// <summary>PostgreSQL RANGE partitioning; <see cref="PartitionMaintenance"/> owns daily partitions and retention.</summary>
    Native,

    /// <summary>TimescaleDB hypertables; chunks, compression and retention are the extension's policies.</summary>
    TimescaleDb,
}

/// <summary>
/// A time-series table, its time (partition) column and its retention. The set is closed (the
/// constructor is private) because table and column names are spliced into DDL.
/// Retentions are the seed's and must stay in step with migration 0002 (TimescaleDB policies).
/// </summary>
public sealed class TimeSeriesTable
{
    public static readonly TimeSeriesTable RawReadings = new("raw_readings", "ts", TimeSpan.FromDays(7));
    public static readonly TimeSeriesTable Aggregates1m = new("aggregates_1m", "window_start", TimeSpan.FromDays(30));
    public static readonly TimeSeriesTable Aggregates15m = new("aggregates_15m", "window_start", TimeSpan.FromDays(90));
    public static readonly TimeSeriesTable RegionalAggregates1m = new("regional_aggregates_1m", "window_start", TimeSpan.FromDays(90));
    public static readonly TimeSeriesTable RegionalAggregates15m = new("regional_aggregates_15m", "window_start", TimeSpan.FromDays(90));
    /// <summary>Migration 0090, not 0001/0002: same scheme and policies.</summary>
    public static readonly TimeSeriesTable Voltage10m = new("voltage_10m", "window_start", TimeSpan.FromDays(90));

    /// <summary>Migration 0076: a transformer's or feeder's load, retained like the regional windows.</summary>
    public static readonly TimeSeriesTable GridNodeAggregates1m = new("grid_node_aggregates_1m", "window_start", TimeSpan.FromDays(90));
    public static readonly TimeSeriesTable GridNodeAggregates15m = new("grid_node_aggregates_15m", "window_start", TimeSpan.FromDays(90));

    public static IReadOnlyList<TimeSeriesTable> All { get; } =
        [RawReadings, Aggregates1m, Aggregates15m, RegionalAggregates1m, RegionalAggregates15m, Voltage10m, GridNodeAggregates1m, GridNodeAggregates15m];

    private TimeSeriesTable(string name, string timeColumn, TimeSpan retention)
    {
        Name = name;
        TimeColumn = timeColumn;
        Retention = retention;
    }

    public string Name { get; }
    public string TimeColumn { get; }
    public TimeSpan Retention { get; }

    /// <summary>The table of a window family (meters, regions, grid nodes) that holds windows of <paramref name="size"/>.</summary>
    internal static TimeSeriesTable OfSize(WindowSize size, TimeSeriesTable oneMinute, TimeSeriesTable fifteenMinutes) => size switch
    {
        WindowSize.OneMinute => oneMinute,
        WindowSize.FifteenMinutes => fifteenMinutes,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Unknown window size."),
    };

    /// <summary>Name of the native daily partition holding <paramref name="day"/> (UTC).</summary>
    public string PartitionName(DateOnly day) =>
        Name + "_p" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The day encoded in a partition name made by <see cref="PartitionName"/>, if it is one.</summary>
    internal bool TryParsePartitionDay(string partitionName, out DateOnly day)
    {
        var prefix = Name + "_p";
        day = default;
        return partitionName.Length == prefix.Length + 8
            && partitionName.StartsWith(prefix, StringComparison.Ordinal)
            && DateOnly.TryParseExact(partitionName.AsSpan(prefix.Length), "yyyyMMdd",
                CultureInfo.InvariantCulture, DateTimeStyles.None, out day);
    }

    public override string ToString() => Name;
}
