using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>A meter that has reported and has no interruption open: its newest reading and the gap to the one before (null with one reading).</summary>
public sealed record MeterLastReading(string MeterId, DateTimeOffset Newest, TimeSpan? Interval);

/// <summary>The reliability read side (IEEE 1366): customer_interruptions and the meters a region serves.</summary>
public sealed partial class AggregateQueries
{
    /// <summary>A region's customer interruptions that start in [from, to), oldest first.</summary>
    public Task<IReadOnlyList<CustomerInterruption>> GetCustomerInterruptionsAsync(string region, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        return GetCustomerInterruptionsAsync("region = $1", region, from, to, ct);
    }

    /// <summary>The customer interruptions of these meters that start in [from, to), oldest first.</summary>
    public Task<IReadOnlyList<CustomerInterruption>> GetCustomerInterruptionsAsync(IReadOnlyCollection<string> meterIds, DateTimeOffset from,
        DateTimeOffset to, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(meterIds);
        return GetCustomerInterruptionsAsync("meter_id = ANY($1)", Db.Array(meterIds.ToArray(), NpgsqlTypes.NpgsqlDbType.Text), from, to, ct);
    }

    /// <summary><paramref name="owner"/> is one of two constants, never input.</summary>
    private Task<IReadOnlyList<CustomerInterruption>> GetCustomerInterruptionsAsync(string owner, object ownerValue,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        ReadPeriodAsync(
            $"""
            SELECT meter_id, start_at, end_at, started_by FROM customer_interruptions
            WHERE {owner} AND start_at >= $2 AND start_at < $3
            ORDER BY start_at, meter_id
            """,
            ownerValue, from, to,
            r => new CustomerInterruption(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1),
                r.IsDBNull(2) ? null : r.GetFieldValue<DateTimeOffset>(2), CustomerInterruption.ParseStart(r.GetString(3))),
            ct);

    /// <summary>
    /// What the region's other meters say about silences that start in [from, to) (<see cref="SilenceEvidence"/>): meters heard
    /// per minute (regional_aggregates_1m) from the period's start to the first whole minute after its end, and the last gasps
    /// within <see cref="SilenceEvidence.GaspCorroborates"/> of it.
    /// </summary>
    public async Task<SilenceEvidence> GetSilenceEvidenceAsync(string region, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        var (start, end) = (from.ToUniversalTime(), to.ToUniversalTime());
        var heard = await ReadAsync(
            """
            SELECT window_start, meter_count FROM regional_aggregates_1m
            WHERE region = $1 AND window_start >= $2 AND window_start < $3 AND meter_count > 0
            """,
            [region, Window.Floor(start, WindowSize.OneMinute), SilenceEvidence.JudgedMinute(end) + TimeSpan.FromMinutes(1)],
            r => (At: r.GetFieldValue<DateTimeOffset>(0), Meters: r.GetInt32(1)), ct);
        var gasps = await ReadAsync(
            """
            SELECT meter_id, start_at FROM customer_interruptions
            WHERE region = $1 AND started_by = 'last-gasp' AND start_at >= $2 AND start_at <= $3
            """,
            [region, start - SilenceEvidence.GaspCorroborates, end + SilenceEvidence.GaspCorroborates],
            r => (r.GetString(0), r.GetFieldValue<DateTimeOffset>(1)), ct);
        return new SilenceEvidence(heard.ToDictionary(h => h.At, h => h.Meters), gasps);
    }

    /// <summary>
    /// Customers a region served during [from, to): its meters registered before the period's end, and every meter that
    /// reported from the region during it (a 15-minute window of it overlaps the period). The registry keeps no retirement,
    /// so a registered meter counts from its registration on; and one registered after the period (a registry filled
    /// late, a replay of old readings) was served nonetheless when it reported.
    /// </summary>
    public async Task<int> CountCustomersServedAsync(string region, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        var counts = await ReadPeriodAsync(
            """
            SELECT count(*)::int FROM (
                SELECT meter_id FROM meters WHERE region = $1 AND registered_at < $3
                UNION
                SELECT meter_id FROM aggregates_15m WHERE region = $1 AND window_start > $2 - interval '15 minutes' AND window_start < $3
            ) served
            """,
            region, from, to, r => r.GetInt32(0), ct);
        return counts[0];
    }

    /// <summary>
    /// For every meter of a region without an open interruption, its newest stored reading (raw_readings) and the gap to the
    /// one before: what tells a meter that has fallen silent and not reported since, whose interruption no reading has shown yet.
    /// </summary>
    public Task<IReadOnlyList<MeterLastReading>> GetLastReadingsAsync(string region, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        return GetLastReadingsAsync("m.region = $1", region, ct);
    }

    /// <summary>As above, for these meters (registered ones only).</summary>
    public Task<IReadOnlyList<MeterLastReading>> GetLastReadingsAsync(IReadOnlyCollection<string> meterIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(meterIds);
        return GetLastReadingsAsync("m.meter_id = ANY($1)", Db.Array(meterIds.ToArray(), NpgsqlTypes.NpgsqlDbType.Text), ct);
    }

    /// <summary><paramref name="owner"/> is one of two constants, never input.</summary>
    private Task<IReadOnlyList<MeterLastReading>> GetLastReadingsAsync(string owner, object ownerValue, CancellationToken ct) =>
        ReadAsync(
            $"""
            SELECT m.meter_id, l.newest, l.newest - l.previous
            FROM meters m
            CROSS JOIN LATERAL (
                SELECT max(x.ts) AS newest, min(x.ts) AS previous
                FROM (SELECT r.ts FROM raw_readings r WHERE r.meter_id = m.meter_id ORDER BY r.ts DESC LIMIT 2) x
            ) l
            WHERE {owner} AND l.newest IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM customer_interruptions c WHERE c.meter_id = m.meter_id AND c.end_at IS NULL)
            """,
            [ownerValue],
            r => new MeterLastReading(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1),
                r.GetFieldValue<TimeSpan>(2) is { Ticks: > 0 } gap ? gap : null),
            ct);
}
