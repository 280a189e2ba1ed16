using Npgsql;
using NpgsqlTypes;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>
/// Writes regional windows to <c>regional_aggregates_1m</c> / <c>regional_aggregates_15m</c>
/// (by size). A later version of (region, window_start) replaces the row; with a checkpoint,
/// the projection's offset is stored in the same transaction as the rows.
/// </summary>
public sealed class RegionalAggregateStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
{
    /// <summary>UPSERTs the rows (the later of two versions of a window in the batch wins) and the checkpoint, atomically.</summary>
    public async Task UpsertAsync(IReadOnlyList<RegionalAggregate> rows, ProjectionCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ProjectionBatch.UpsertWindowsAsync(dataSource, partitions, rows, r => TableOf(r.Size),
            r => (r.Region, r.WindowStart.ToUniversalTime()), r => r.WindowStart, Upsert, [], checkpoint, ct);
        StorageMetrics.Written("regional_aggregates", rows.Count, started);
    }

    internal static TimeSeriesTable TableOf(WindowSize size) => size switch
    {
        WindowSize.OneMinute => TimeSeriesTable.RegionalAggregates1m,
        WindowSize.FifteenMinutes => TimeSeriesTable.RegionalAggregates15m,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Unknown window size."),
    };

    private static UnnestUpsert<RegionalAggregate> Upsert(IReadOnlyList<RegionalAggregate> rows) => new UnnestUpsert<RegionalAggregate>(rows)
        .Key("region", "text", NpgsqlDbType.Text, r => r.Region)
        .Key("window_start", "timestamptz", NpgsqlDbType.TimestampTz, r => r.WindowStart.ToUniversalTime())
        .Column("window_end", "timestamptz", NpgsqlDbType.TimestampTz, r => r.WindowEnd.ToUniversalTime())
        .Column("meter_count", "int4", NpgsqlDbType.Integer, r => r.MeterCount)
        .Column("total_power_kw", "float8", NpgsqlDbType.Double, r => r.TotalPowerKw)
        .Column("avg_power_kw", "float8", NpgsqlDbType.Double, r => r.AvgPowerKw)
        .Column("energy_kwh_sum", "float8", NpgsqlDbType.Double, r => r.EnergyKwhSum)
        .Column("reading_count", "int4", NpgsqlDbType.Integer, r => r.ReadingCount)
        .Column("capacity_kw", "float8", NpgsqlDbType.Double, r => r.CapacityKw)
        .Column("load_percent", "float8", NpgsqlDbType.Double, r => r.LoadPercent);
}
