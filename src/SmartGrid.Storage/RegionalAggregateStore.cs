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
public sealed class RegionalAggregateStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PartitionMaintenance _partitions;

    public RegionalAggregateStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
    {
        _dataSource = dataSource;
        _partitions = partitions;
    }

    /// <summary>UPSERTs the rows (the later of two versions of a window in the batch wins) and the checkpoint, atomically.</summary>
    public async Task UpsertAsync(IReadOnlyList<RegionalAggregate> rows, ProjectionCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var upserts = new List<(TimeSeriesTable, IReadOnlyList<DateTimeOffset>, Func<NpgsqlBatchCommand>)>();
        foreach (var group in rows.GroupBy(r => r.Size))
        {
            var table = TableOf(group.Key);
            var windows = LastPerWindow(group);
            upserts.Add((table, windows.Select(w => w.WindowStart).ToArray(), () => UpsertCommand(table, windows)));
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ProjectionBatch.ExecuteAsync(_dataSource, _partitions, upserts, checkpoint, ct);
        StorageMetrics.Written("regional_aggregates", rows.Count, started);
    }

    internal static TimeSeriesTable TableOf(WindowSize size) => size switch
    {
        WindowSize.OneMinute => TimeSeriesTable.RegionalAggregates1m,
        WindowSize.FifteenMinutes => TimeSeriesTable.RegionalAggregates15m,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Unknown window size."),
    };

    private static List<RegionalAggregate> LastPerWindow(IEnumerable<RegionalAggregate> rows)
    {
        var last = new Dictionary<(string, DateTimeOffset), RegionalAggregate>();
        foreach (var r in rows)
            last[(r.Region, r.WindowStart.ToUniversalTime())] = r;
        return [.. last.Values];
    }

    private static NpgsqlBatchCommand UpsertCommand(TimeSeriesTable table, IReadOnlyList<RegionalAggregate> rows)
    {
        var n = rows.Count;
        var region = new string[n];
        var start = new DateTimeOffset[n];
        var end = new DateTimeOffset[n];
        var meterCount = new int[n];
        var totalPower = new double[n];
        var avgPower = new double[n];
        var energySum = new double[n];
        var readingCount = new int[n];
        var capacityKw = new double[n];
        var loadPercent = new double[n];
        for (var i = 0; i < n; i++)
        {
            var r = rows[i];
            region[i] = r.Region;
            start[i] = r.WindowStart.ToUniversalTime();
            end[i] = r.WindowEnd.ToUniversalTime();
            meterCount[i] = r.MeterCount;
            totalPower[i] = r.TotalPowerKw;
            avgPower[i] = r.AvgPowerKw;
            energySum[i] = r.EnergyKwhSum;
            readingCount[i] = r.ReadingCount;
            capacityKw[i] = r.CapacityKw;
            loadPercent[i] = r.LoadPercent;
        }

        // table.Name comes from the closed TimeSeriesTable set, never from input.
        var cmd = new NpgsqlBatchCommand(
            $"""
            INSERT INTO {table.Name} AS t
                (region, window_start, window_end, meter_count, total_power_kw, avg_power_kw,
                 energy_kwh_sum, reading_count, capacity_kw, load_percent, updated_at)
            SELECT u.*, now()
            FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::int4[], $5::float8[], $6::float8[],
                        $7::float8[], $8::int4[], $9::float8[], $10::float8[]) AS u
            ON CONFLICT (region, window_start) DO UPDATE SET
                window_end = EXCLUDED.window_end,
                meter_count = EXCLUDED.meter_count,
                total_power_kw = EXCLUDED.total_power_kw,
                avg_power_kw = EXCLUDED.avg_power_kw,
                energy_kwh_sum = EXCLUDED.energy_kwh_sum,
                reading_count = EXCLUDED.reading_count,
                capacity_kw = EXCLUDED.capacity_kw,
                load_percent = EXCLUDED.load_percent,
                updated_at = EXCLUDED.updated_at
            """);
        cmd.Parameters.Add(Sql.Array(region, NpgsqlDbType.Text));
        cmd.Parameters.Add(Sql.Array(start, NpgsqlDbType.TimestampTz));
        cmd.Parameters.Add(Sql.Array(end, NpgsqlDbType.TimestampTz));
        cmd.Parameters.Add(Sql.Array(meterCount, NpgsqlDbType.Integer));
        cmd.Parameters.Add(Sql.Array(totalPower, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(avgPower, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(energySum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(readingCount, NpgsqlDbType.Integer));
        cmd.Parameters.Add(Sql.Array(capacityKw, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(loadPercent, NpgsqlDbType.Double));
        return cmd;
    }
}
