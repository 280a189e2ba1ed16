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
public sealed class AggregateStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PartitionMaintenance _partitions;

    public AggregateStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
    {
        _dataSource = dataSource;
        _partitions = partitions;
    }

    /// <summary>
    /// UPSERTs the rows (when a window occurs twice in the batch the later one wins) and stores
    /// <paramref name="checkpoint"/> if given, atomically and in one round trip. Empty windows
    /// (no reading) are not rows of the seed's tables and are skipped.
    /// </summary>
    public async Task UpsertAsync(IReadOnlyList<WindowAggregate> rows, ProjectionCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var upserts = new List<(TimeSeriesTable, IReadOnlyList<DateTimeOffset>, Func<NpgsqlBatchCommand>)>();
        foreach (var group in rows.Where(r => !r.IsEmpty).GroupBy(r => r.Size))
        {
            var table = TableOf(group.Key);
            var windows = LastPerWindow(group);
            upserts.Add((table, windows.Select(w => w.WindowStart).ToArray(), () => UpsertCommand(table, windows)));
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ProjectionBatch.ExecuteAsync(_dataSource, _partitions, upserts, checkpoint, ct);
        StorageMetrics.Written("aggregates", rows.Count, started);
    }

    internal static TimeSeriesTable TableOf(WindowSize size) => size switch
    {
        WindowSize.OneMinute => TimeSeriesTable.Aggregates1m,
        WindowSize.FifteenMinutes => TimeSeriesTable.Aggregates15m,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "Unknown window size."),
    };

    private static List<WindowAggregate> LastPerWindow(IEnumerable<WindowAggregate> rows)
    {
        var last = new Dictionary<(string, DateTimeOffset), WindowAggregate>();
        foreach (var r in rows)
            last[(r.MeterId, r.WindowStart.ToUniversalTime())] = r;
        return [.. last.Values];
    }

    private static NpgsqlBatchCommand UpsertCommand(TimeSeriesTable table, IReadOnlyList<WindowAggregate> rows)
    {
        var n = rows.Count;
        var meterId = new string[n];
        var region = new string[n];
        var start = new DateTimeOffset[n];
        var end = new DateTimeOffset[n];
        var count = new int[n];
        var energySum = new double[n];
        var powerAvg = new double[n];
        var powerMin = new double[n];
        var powerMax = new double[n];
        var voltageAvg = new double[n];
        var currentAvg = new double[n];
        var powerFactorAvg = new double?[n];
        var powerSum = new double[n];
        var voltageSum = new double[n];
        var currentSum = new double[n];
        var powerFactorSum = new double[n];
        var powerFactorCount = new int[n];
        var frequencySum = new double[n];
        var frequencyCount = new int[n];
        for (var i = 0; i < n; i++)
        {
            var r = rows[i];
            meterId[i] = r.MeterId;
            region[i] = r.Region;
            start[i] = r.WindowStart.ToUniversalTime();
            end[i] = r.WindowEnd.ToUniversalTime();
            count[i] = r.ReadingCount;
            energySum[i] = r.EnergyKwhSum;
            powerAvg[i] = r.PowerKwAvg;
            powerMin[i] = r.PowerKwMin;
            powerMax[i] = r.PowerKwMax;
            voltageAvg[i] = r.VoltageAvg;
            currentAvg[i] = r.CurrentAvg;
            powerFactorAvg[i] = r.PowerFactorCount == 0 ? null : r.PowerFactorAvg;
            powerSum[i] = r.PowerKwSum;
            voltageSum[i] = r.VoltageSum;
            currentSum[i] = r.CurrentSum;
            powerFactorSum[i] = r.PowerFactorSum;
            powerFactorCount[i] = r.PowerFactorCount;
            frequencySum[i] = r.FrequencySum;
            frequencyCount[i] = r.FrequencyCount;
        }

        // table.Name comes from the closed TimeSeriesTable set, never from input.
        var cmd = new NpgsqlBatchCommand(
            $"""
            INSERT INTO {table.Name} AS t
                (meter_id, region, window_start, window_end, reading_count, energy_kwh_sum,
                 power_kw_avg, power_kw_min, power_kw_max, voltage_avg, current_avg, power_factor_avg,
                 power_kw_sum, voltage_sum, current_sum, power_factor_sum, power_factor_count,
                 frequency_sum, frequency_count, updated_at)
            SELECT u.*, now()
            FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int4[], $6::float8[],
                        $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[],
                        $13::float8[], $14::float8[], $15::float8[], $16::float8[], $17::int4[],
                        $18::float8[], $19::int4[]) AS u
            ON CONFLICT (meter_id, window_start) DO UPDATE SET
                region = EXCLUDED.region,
                window_end = EXCLUDED.window_end,
                reading_count = EXCLUDED.reading_count,
                energy_kwh_sum = EXCLUDED.energy_kwh_sum,
                power_kw_avg = EXCLUDED.power_kw_avg,
                power_kw_min = EXCLUDED.power_kw_min,
                power_kw_max = EXCLUDED.power_kw_max,
                voltage_avg = EXCLUDED.voltage_avg,
                current_avg = EXCLUDED.current_avg,
                power_factor_avg = EXCLUDED.power_factor_avg,
                power_kw_sum = EXCLUDED.power_kw_sum,
                voltage_sum = EXCLUDED.voltage_sum,
                current_sum = EXCLUDED.current_sum,
                power_factor_sum = EXCLUDED.power_factor_sum,
                power_factor_count = EXCLUDED.power_factor_count,
                frequency_sum = EXCLUDED.frequency_sum,
                frequency_count = EXCLUDED.frequency_count,
                updated_at = EXCLUDED.updated_at
            """);
        cmd.Parameters.Add(Sql.Array(meterId, NpgsqlDbType.Text));
        cmd.Parameters.Add(Sql.Array(region, NpgsqlDbType.Text));
        cmd.Parameters.Add(Sql.Array(start, NpgsqlDbType.TimestampTz));
        cmd.Parameters.Add(Sql.Array(end, NpgsqlDbType.TimestampTz));
        cmd.Parameters.Add(Sql.Array(count, NpgsqlDbType.Integer));
        cmd.Parameters.Add(Sql.Array(energySum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerAvg, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerMin, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerMax, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(voltageAvg, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(currentAvg, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerFactorAvg, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerSum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(voltageSum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(currentSum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerFactorSum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(powerFactorCount, NpgsqlDbType.Integer));
        cmd.Parameters.Add(Sql.Array(frequencySum, NpgsqlDbType.Double));
        cmd.Parameters.Add(Sql.Array(frequencyCount, NpgsqlDbType.Integer));
        return cmd;
    }
}
