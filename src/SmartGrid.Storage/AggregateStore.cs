using Npgsql;
using NpgsqlTypes;
using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>
/// Writes per-meter windows to <c>aggregates_1m</c> / <c>aggregates_15m</c> (by <see cref="WindowAggregate.Size"/>).
/// A window arrives as its full state, so a later version of (meter_id, window_start) replaces
/// the row (late readings, replays). With a checkpoint, the projection's offset is stored in the
/// same transaction: either the rows and the offset are stored, or neither.
/// <para>
/// The 10-minute voltage windows (voltage_10m) of every bucket a 1-minute row touches are rebuilt
/// from aggregates_1m in that transaction, after its UPSERT: a bucket's row is always the sum of
/// its minutes as stored, so a replayed or revised minute replaces its share instead of adding to it.
/// </para>
/// </summary>
public sealed class AggregateStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
{
    /// <summary>
    /// UPSERTs the rows (when a window occurs twice in the batch the later one wins) and stores
    /// <paramref name="checkpoint"/> if given, atomically and in one round trip. Empty windows
    /// (no reading) are not rows of the seed's tables and are skipped.
    /// </summary>
    public Task UpsertAsync(IReadOnlyList<WindowAggregate> rows, ProjectionCheckpoint? checkpoint, CancellationToken ct = default) =>
        UpsertAsync(rows, [], [], checkpoint, ct);

    /// <summary>
    /// As above, with the meters' voltage events (sag, swell, interruption) and customer interruptions
    /// (with the meter's region) UPSERTed by (meter, start) in the same transaction; when one occurs
    /// twice the later wins, and an ended one is never reopened.
    /// </summary>
    public async Task UpsertAsync(IReadOnlyList<WindowAggregate> rows, IReadOnlyList<VoltageEvent> voltageEvents,
        IReadOnlyList<(string Region, CustomerInterruption Interruption)> interruptions, ProjectionCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(voltageEvents);
        ArgumentNullException.ThrowIfNull(interruptions);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var stored = rows.Where(r => !r.IsEmpty).ToList();
        var after = new List<(TimeSeriesTable?, IReadOnlyList<DateTimeOffset>, Func<NpgsqlBatchCommand>)>(2);
        var buckets = stored.Where(r => r.Size == WindowSize.OneMinute)
            .Select(r => (r.MeterId, Start: VoltageWindow.Floor(r.WindowStart))).Distinct().ToList();
        if (buckets.Count > 0)
            after.Add((TimeSeriesTable.Voltage10m, buckets.Select(b => b.Start).ToArray(), () => RebuildVoltage10m(buckets)));
        if (voltageEvents.Count > 0)
        {
            var latest = voltageEvents.GroupBy(e => (e.MeterId, e.Start.UtcTicks)).Select(g => g.Last()).ToList();
            after.Add((null, [], () => UpsertVoltageEvents(latest)));
        }
        if (interruptions.Count > 0)
        {
            var latest = interruptions.GroupBy(i => (i.Interruption.MeterId, i.Interruption.Start.UtcTicks)).Select(g => g.Last()).ToList();
            after.Add((null, [], () => UpsertInterruptions(latest)));
        }
        await ProjectionBatch.UpsertWindowsAsync(dataSource, partitions, stored, r => TableOf(r.Size),
            r => (r.MeterId, r.WindowStart.ToUniversalTime()), r => r.WindowStart, Upsert, after, checkpoint, ct);
        StorageMetrics.Written("aggregates", rows.Count, started);
    }

    private static NpgsqlBatchCommand RebuildVoltage10m(IReadOnlyList<(string MeterId, DateTimeOffset Start)> buckets)
    {
        // The region of a bucket is its newest minute's, as a window's region is its last reading's.
        return Db.Statement(
            """
            INSERT INTO voltage_10m AS t (meter_id, region, window_start, window_end, sample_count, voltage_sum, voltage_mean, voltage_min, voltage_max, updated_at)
            SELECT a.meter_id, (array_agg(a.region ORDER BY a.window_start DESC))[1], k.bucket, k.bucket + interval '10 minutes',
                   sum(a.reading_count)::int, sum(a.voltage_sum), sum(a.voltage_sum) / sum(a.reading_count),
                   min(a.voltage_min), max(a.voltage_max), now()
            FROM unnest($1::text[], $2::timestamptz[]) AS k(meter_id, bucket)
            JOIN aggregates_1m a ON a.meter_id = k.meter_id AND a.window_start >= k.bucket AND a.window_start < k.bucket + interval '10 minutes'
            GROUP BY a.meter_id, k.bucket
            ON CONFLICT (meter_id, window_start) DO UPDATE SET
                region = EXCLUDED.region, window_end = EXCLUDED.window_end, sample_count = EXCLUDED.sample_count,
                voltage_sum = EXCLUDED.voltage_sum, voltage_mean = EXCLUDED.voltage_mean,
                voltage_min = EXCLUDED.voltage_min, voltage_max = EXCLUDED.voltage_max, updated_at = EXCLUDED.updated_at
            """,
            Db.Array(buckets.Select(b => b.MeterId).ToArray(), NpgsqlDbType.Text),
            Db.Array(buckets.Select(b => b.Start.ToUniversalTime()).ToArray(), NpgsqlDbType.TimestampTz));
    }

    // An ended event or interruption is never reopened by an older version arriving late.
    private static NpgsqlBatchCommand UpsertVoltageEvents(IReadOnlyList<VoltageEvent> events) => new UnnestUpsert<VoltageEvent>(events)
        .Key("meter_id", "text", NpgsqlDbType.Text, e => e.MeterId)
        .Key("start_at", "timestamptz", NpgsqlDbType.TimestampTz, e => e.Start.ToUniversalTime())
        .Column("region", "text", NpgsqlDbType.Text, e => e.Region)
        .Column("kind", "text", NpgsqlDbType.Text, e => VoltageWindow.WireName(e.Kind))
        .Column("end_at", "timestamptz", NpgsqlDbType.TimestampTz, e => e.End?.ToUniversalTime())
        .Column("extreme_voltage", "float8", NpgsqlDbType.Double, e => e.ExtremeVoltage)
        .Column("nominal_voltage", "float8", NpgsqlDbType.Double, e => e.NominalVoltage)
        .OnlyWhere("t.end_at IS NULL")
        .Build("voltage_events");

    private static NpgsqlBatchCommand UpsertInterruptions(IReadOnlyList<(string Region, CustomerInterruption Interruption)> interruptions) =>
        new UnnestUpsert<(string Region, CustomerInterruption Interruption)>(interruptions)
            .Key("meter_id", "text", NpgsqlDbType.Text, i => i.Interruption.MeterId)
            .Key("start_at", "timestamptz", NpgsqlDbType.TimestampTz, i => i.Interruption.Start.ToUniversalTime())
            .Column("region", "text", NpgsqlDbType.Text, i => i.Region)
            .Column("started_by", "text", NpgsqlDbType.Text, i => CustomerInterruption.WireName(i.Interruption.StartedBy))
            .Column("end_at", "timestamptz", NpgsqlDbType.TimestampTz, i => i.Interruption.End?.ToUniversalTime())
            .OnlyWhere("t.end_at IS NULL")
            .Build("customer_interruptions");

    internal static TimeSeriesTable TableOf(WindowSize size) =>
        TimeSeriesTable.OfSize(size, TimeSeriesTable.Aggregates1m, TimeSeriesTable.Aggregates15m);

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
        // A window published before extremes were kept: unknown.
        .Column("voltage_min", "float8", NpgsqlDbType.Double, r => r.HasVoltageExtremes ? r.VoltageMin : (double?)null)
        .Column("voltage_max", "float8", NpgsqlDbType.Double, r => r.HasVoltageExtremes ? r.VoltageMax : (double?)null)
        .Column("current_sum", "float8", NpgsqlDbType.Double, r => r.CurrentSum)
        .Column("power_factor_sum", "float8", NpgsqlDbType.Double, r => r.PowerFactorSum)
        .Column("power_factor_count", "int4", NpgsqlDbType.Integer, r => r.PowerFactorCount)
        .Column("frequency_sum", "float8", NpgsqlDbType.Double, r => r.FrequencySum)
        .Column("frequency_count", "int4", NpgsqlDbType.Integer, r => r.FrequencyCount);
}
