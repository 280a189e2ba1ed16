using Npgsql;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>Read side for the gateway and for ground-truth checks. Ranges are [from, to) on window_start / ts.</summary>
public sealed partial class AggregateQueries
{
    private const string MeterColumns =
        "meter_id, region, window_start, window_end, reading_count, energy_kwh_sum, power_kw_sum, power_kw_min, " +
        "power_kw_max, voltage_sum, current_sum, power_factor_sum, power_factor_count, frequency_sum, frequency_count, voltage_min, voltage_max";

    private const string RegionalColumns =
        "region, window_start, meter_count, total_power_kw, energy_kwh_sum, reading_count, capacity_kw, load_percent";

    private readonly NpgsqlDataSource _dataSource;

    public AggregateQueries(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>A meter's windows of one size, oldest first, at most <paramref name="limit"/>.</summary>
    public Task<IReadOnlyList<WindowAggregate>> GetMeterAggregatesAsync(string meterId, WindowSize size,
        DateTimeOffset from, DateTimeOffset to, int limit = 1000, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadAsync(
            $"""
            SELECT {MeterColumns} FROM {AggregateStore.TableOf(size).Name}
            WHERE meter_id = $1 AND window_start >= $2 AND window_start < $3
            ORDER BY window_start
            LIMIT $4
            """,
            [meterId, from, to, limit],
            r => ReadWindow(r, size), ct);
    }

    /// <summary>Every meter's windows of one size in a range, ordered by meter then window (ground-truth comparisons).</summary>
    public Task<IReadOnlyList<WindowAggregate>> GetAllMeterAggregatesAsync(WindowSize size,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        ReadAsync(
            $"""
            SELECT {MeterColumns} FROM {AggregateStore.TableOf(size).Name}
            WHERE window_start >= $1 AND window_start < $2
            ORDER BY meter_id, window_start
            """,
            [from, to],
            r => ReadWindow(r, size), ct);

    /// <summary>A region's load windows of one size, oldest first.</summary>
    public Task<IReadOnlyList<RegionalAggregate>> GetRegionalLoadAsync(string region, WindowSize size,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        return ReadPeriodAsync(
            $"""
            SELECT {RegionalColumns} FROM {RegionalAggregateStore.TableOf(size).Name}
            WHERE region = $1 AND window_start >= $2 AND window_start < $3
            ORDER BY window_start
            """,
            region, from, to, r => ReadRegional(r, size), ct);
    }

    /// <summary>A meter's stored raw readings, oldest first.</summary>
    public Task<IReadOnlyList<TelemetryReading>> GetRawReadingsAsync(string meterId,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterId);
        return ReadPeriodAsync(
            """
            SELECT meter_id, ts, voltage, current, power_kw, energy_kwh, power_factor, frequency, region, ingested_at
            FROM raw_readings
            WHERE meter_id = $1 AND ts >= $2 AND ts < $3
            ORDER BY ts
            """,
            meterId, from, to,
            r => new TelemetryReading
            {
                MeterId = r.GetString(0),
                Timestamp = r.GetFieldValue<DateTimeOffset>(1),
                Voltage = r.GetDouble(2),
                Current = r.GetDouble(3),
                PowerKw = r.GetDouble(4),
                EnergyKwh = r.GetDouble(5),
                PowerFactor = r.IsDBNull(6) ? null : r.GetDouble(6),
                Frequency = r.IsDBNull(7) ? null : r.GetDouble(7),
                Region = r.IsDBNull(8) ? null : r.GetString(8),
                IngestedAt = r.GetFieldValue<DateTimeOffset>(9),
            },
            ct);
    }

    /// <summary>Number of rows in a time-series table (all partitions).</summary>
    public async Task<long> CountRowsAsync(TimeSeriesTable table, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        await using var cmd = Db.Command(_dataSource, $"SELECT count(*) FROM {table.Name}");
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The rows of <paramref name="sql"/> with its <paramref name="values"/> (as <see cref="Db"/> takes them), timed as <paramref name="query"/>.</summary>
    private async Task<IReadOnlyList<T>> ReadAsync<T>(string sql, object?[] values,
        Func<NpgsqlDataReader, T> map, CancellationToken ct, [System.Runtime.CompilerServices.CallerMemberName] string query = "")
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var cmd = Db.Command(_dataSource, sql, values);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
            rows.Add(map(reader));
        StorageMetrics.Queried(query, started);
        return rows;
    }

    /// <summary>Rows of one owner (a meter, a region, a node, or an array of them: $1) over a period ($2 and $3).</summary>
    private Task<IReadOnlyList<T>> ReadPeriodAsync<T>(string sql, object owner, DateTimeOffset from, DateTimeOffset to,
        Func<NpgsqlDataReader, T> map, CancellationToken ct, [System.Runtime.CompilerServices.CallerMemberName] string query = "") =>
        ReadAsync(sql, [owner, from, to], map, ct, query);

    private static WindowAggregate ReadWindow(NpgsqlDataReader r, WindowSize size) => new()
    {
        MeterId = r.GetString(0),
        Region = r.GetString(1),
        Size = size,
        WindowStart = r.GetFieldValue<DateTimeOffset>(2),
        ReadingCount = r.GetInt32(4),
        EnergyKwhSum = r.GetDouble(5),
        PowerKwSum = r.GetDouble(6),
        PowerKwMin = r.GetDouble(7),
        PowerKwMax = r.GetDouble(8),
        VoltageSum = r.GetDouble(9),
        CurrentSum = r.GetDouble(10),
        PowerFactorSum = r.GetDouble(11),
        PowerFactorCount = r.GetInt32(12),
        FrequencySum = r.GetDouble(13),
        FrequencyCount = r.GetInt32(14),
        // Rows from before migration 0090 kept no extremes: the mean is the one value known to lie between them.
        VoltageMin = r.IsDBNull(15) ? r.GetDouble(9) / r.GetInt32(4) : r.GetDouble(15),
        VoltageMax = r.IsDBNull(16) ? r.GetDouble(9) / r.GetInt32(4) : r.GetDouble(16),
    };

    private static RegionalAggregate ReadRegional(NpgsqlDataReader r, WindowSize size) => new()
    {
        Region = r.GetString(0),
        Size = size,
        WindowStart = r.GetFieldValue<DateTimeOffset>(1),
        MeterCount = r.GetInt32(2),
        TotalPowerKw = r.GetDouble(3),
        EnergyKwhSum = r.GetDouble(4),
        ReadingCount = r.GetInt32(5),
        CapacityKw = r.GetDouble(6),
        LoadPercent = r.GetDouble(7),
    };
}
