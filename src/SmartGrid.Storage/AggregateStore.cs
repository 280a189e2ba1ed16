using Npgsql;
using NpgsqlTypes;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>
/// Writes per-meter windows to <c>aggregates_1m</c> / <c>aggregates_15m</c> (by <see cref="WindowAggregate.Size"/>).
/// A window arrives as its full state, so a later version of (meter_id, window_start) replaces
/// the row (late readings, replays). With a checkpoint, the projection's offset is stored in the
/// same transaction: either the rows and the offset are stored, or neither.
/// </summary>
public sealed class AggregateStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
{
    /// <summary>
    /// UPSERTs the rows (when a window occurs twice in the batch the later one wins) and stores
    /// <paramref name="checkpoint"/> if given, atomically and in one round trip. Empty windows
    /// (no reading) are not rows of the seed's tables and are skipped.
    /// </summary>
    public async Task UpsertAsync(IReadOnlyList<WindowAggregate> rows, ProjectionCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ProjectionBatch.UpsertWindowsAsync(dataSource, partitions, rows.Where(r => !r.IsEmpty), r => TableOf(r.Size),
            r => (r.MeterId, r.WindowStart.ToUniversalTime()), r => r.WindowStart, Upsert, checkpoint, ct);
        StorageMetrics.Written("aggregates", rows.Count, started);
    }

    internal static TimeSeriesTable TableOf(WindowSize size) => size switch
    {
        WindowSize.OneMinute => TimeSeriesTable.Aggregates1m,
        WindowSize.FifteenMinutes => TimeSeriesTable.Aggregates15m,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Unknown window size."),
    };

    private static UnnestUpsert<WindowAggregate> Upsert(IReadOnlyList<WindowAggregate> rows) => new UnnestUpsert<WindowAggregate>(rows)
        .Key("meter_id", "text", NpgsqlDbType.Text, r => r.MeterId)
        .Column("region", "text", NpgsqlDbType.Text, r => r.Region)
        .Key("window_start", "timestamptz", NpgsqlDbType.TimestampTz, r => r.WindowStart.ToUniversalTime())
        .Column("window_end", "timestamptz", NpgsqlDbType.TimestampTz, r => r.WindowEnd.ToUniversalTime())
        .Column("reading_count", "int4", NpgsqlDbType.Integer, r => r.ReadingCount)
        .Column("energy_kwh_sum", "float8", NpgsqlDbType.Double, r => r.EnergyKwhSum)
        .Column("power_kw_avg", "float8", NpgsqlDbType.Double, r => r.PowerKwAvg)
        .Column("power_kw_min", "float8", NpgsqlDbType.Double, r => r.PowerKwMin)
        .Column("power_kw_max", "float8", NpgsqlDbType.Double, r => r.PowerKwMax)
        .Column("voltage_avg", "float8", NpgsqlDbType.Double, r => r.VoltageAvg)
        .Column("current_avg", "float8", NpgsqlDbType.Double, r => r.CurrentAvg)
        .Column("power_factor_avg", "float8", NpgsqlDbType.Double, r => r.PowerFactorCount == 0 ? null : (double?)r.PowerFactorAvg)
        .Column("power_kw_sum", "float8", NpgsqlDbType.Double, r => r.PowerKwSum)
        .Column("voltage_sum", "float8", NpgsqlDbType.Double, r => r.VoltageSum)
        .Column("current_sum", "float8", NpgsqlDbType.Double, r => r.CurrentSum)
        .Column("power_factor_sum", "float8", NpgsqlDbType.Double, r => r.PowerFactorSum)
        .Column("power_factor_count", "int4", NpgsqlDbType.Integer, r => r.PowerFactorCount)
        .Column("frequency_sum", "float8", NpgsqlDbType.Double, r => r.FrequencySum)
        .Column("frequency_count", "int4", NpgsqlDbType.Integer, r => r.FrequencyCount);
}
