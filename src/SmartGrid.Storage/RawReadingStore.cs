using Npgsql;
using NpgsqlTypes;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>
/// Appends readings to <c>raw_readings</c>, one statement per batch (unnest of column arrays).
/// (meter_id, ts) identifies a reading: a re-sent one conflicts and is skipped, so it is stored once.
/// </summary>
public sealed class RawReadingStore
{
    private const string InsertSql =
        """
        INSERT INTO raw_readings
            (meter_id, ts, voltage, current, power_kw, energy_kwh, power_factor, frequency, region, ingested_at)
        SELECT u.meter_id, u.ts, u.voltage, u.current, u.power_kw, u.energy_kwh, u.power_factor, u.frequency,
               u.region, coalesce(u.ingested_at, now())
        FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                    $7::float8[], $8::float8[], $9::text[], $10::timestamptz[])
             AS u(meter_id, ts, voltage, current, power_kw, energy_kwh, power_factor, frequency, region, ingested_at)
        ON CONFLICT (meter_id, ts) DO NOTHING
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly PartitionMaintenance _partitions;

    public RawReadingStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
    {
        _dataSource = dataSource;
        _partitions = partitions;
    }

    /// <summary>Inserts the batch; returns how many readings were new (duplicates, also within the batch, are skipped).</summary>
    public async Task<int> InsertAsync(IReadOnlyList<TelemetryReading> readings, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(readings);
        if (readings.Count == 0)
            return 0;

        var n = readings.Count;
        var meterIds = new string[n];
        var ts = new DateTimeOffset[n];
        var voltage = new double[n];
        var current = new double[n];
        var powerKw = new double[n];
        var energyKwh = new double[n];
        var powerFactor = new double?[n];
        var frequency = new double?[n];
        var region = new string?[n];
        var ingestedAt = new DateTimeOffset?[n];
        for (var i = 0; i < n; i++)
        {
            var r = readings[i];
            meterIds[i] = r.MeterId;
            ts[i] = r.Timestamp.ToUniversalTime();
            voltage[i] = r.Voltage;
            current[i] = r.Current;
            powerKw[i] = r.PowerKw;
            energyKwh[i] = r.EnergyKwh;
            powerFactor[i] = r.PowerFactor;
            frequency[i] = r.Frequency;
            region[i] = r.Region;
            ingestedAt[i] = r.IngestedAt?.ToUniversalTime();
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var inserted = await WriteRetry.OnMissingPartitionAsync(
            _partitions, [(TimeSeriesTable.RawReadings, ts)],
            async () =>
            {
                await using var cmd = Db.Command(_dataSource, InsertSql,
                    Db.Array(meterIds, NpgsqlDbType.Text),
                    Db.Array(ts, NpgsqlDbType.TimestampTz),
                    Db.Array(voltage, NpgsqlDbType.Double),
                    Db.Array(current, NpgsqlDbType.Double),
                    Db.Array(powerKw, NpgsqlDbType.Double),
                    Db.Array(energyKwh, NpgsqlDbType.Double),
                    Db.Array(powerFactor, NpgsqlDbType.Double),
                    Db.Array(frequency, NpgsqlDbType.Double),
                    Db.Array(region, NpgsqlDbType.Text),
                    Db.Array(ingestedAt, NpgsqlDbType.TimestampTz));
                return await cmd.ExecuteNonQueryAsync(ct);
            },
            ct);
        StorageMetrics.Written("raw_readings", n, started);
        return inserted;
    }
}
