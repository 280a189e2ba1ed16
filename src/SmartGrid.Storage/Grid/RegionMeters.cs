using Npgsql;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;

namespace SmartGrid.Storage.Grid;

/// <summary>
/// One of a region's registered meters as the region page lists it: how recently it reported, its newest
/// 1-minute window, and its open anomaly alerts.
/// </summary>
/// <param name="Status">
/// <c>reporting</c>: a 1-minute window started within the gateway's <c>MeterSilentAfter</c>;
/// <c>silent</c>: none since, but for less than its <c>MeterPassivatedAfter</c> (its actor still holds
/// its state in memory); <c>passivated</c>: silent longer (its actor has stopped and wakes on its next reading), or never reported.
/// </param>
public sealed record RegionMeter(
    string MeterId, string Status, DateTimeOffset? LastWindowStart, double? PowerKwAvg, double? VoltageAvg, int OpenAnomalies,
    DateTimeOffset? NewestAnomalyAt);

/// <summary>One of a meter's anomaly alerts: the span it was seen over, for marks on the meter's charts.</summary>
public sealed record MeterAnomaly(
    Guid AlertId, string Severity, AlertStatus Status, string Message, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt, int Occurrences);

/// <summary>A meter's anomalies within [from, to).</summary>
public sealed record MeterAnomalyList(string MeterId, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<MeterAnomaly> Items);

/// <summary>
/// Reads a region's meters (the <c>meters</c> registry, newest <c>aggregates_1m</c> row, open alerts) and a meter's anomalies;
/// a meter is silent after <paramref name="silentAfter"/> without a window and passivated after <paramref name="passivatedAfter"/>.
/// </summary>
public sealed class RegionMeters(NpgsqlDataSource db, TimeSpan silentAfter, TimeSpan passivatedAfter)
{
    /// <summary>A meter with no window in this long is not looked for further back: it is passivated either way.</summary>
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(1);

    /// <summary>
    /// A page of the region's meters in id order (those whose id contains <paramref name="search"/>, if given) and how many match.
    /// The page is cut first, so each call reads the newest window of <paramref name="limit"/> meters only, however large the region.
    /// </summary>
    public async Task<(IReadOnlyList<RegionMeter> Items, long Total)> ListAsync(string region, string? search, int limit, int offset,
        DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var count = Db.Command(connection, null,
            "SELECT count(*) FROM meters WHERE region = $1 AND ($2::text IS NULL OR strpos(meter_id, $2) > 0)", region, Db.Text(search));
        var total = (long)(await count.ExecuteScalarAsync(ct))!;

        await using var cmd = Db.Command(connection, null,
            $"""
            WITH page AS (
                SELECT meter_id FROM meters WHERE region = $1 AND ($2::text IS NULL OR strpos(meter_id, $2) > 0)
                ORDER BY meter_id LIMIT $3 OFFSET $4
            )
            SELECT p.meter_id, w.window_start, w.power_kw_avg, w.voltage_avg, a.open_anomalies, a.newest_at
            FROM page p
            LEFT JOIN LATERAL (
                SELECT window_start, power_kw_avg, voltage_avg FROM aggregates_1m
                WHERE meter_id = p.meter_id AND window_start >= $5 ORDER BY window_start DESC LIMIT 1
            ) w ON true
            LEFT JOIN LATERAL (
                -- The open-alert de-duplication index: (type, region, COALESCE(meter_id, '')) WHERE status <> 'resolved'.
                SELECT count(*)::int AS open_anomalies, max(last_seen_at) AS newest_at FROM alerts
                WHERE type = '{AlertType.Anomaly.ToWireName()}' AND region = $1 AND COALESCE(meter_id, '') = p.meter_id AND status <> 'resolved'
            ) a ON true
            ORDER BY p.meter_id
            """, region, Db.Text(search), limit, offset, now - Horizon);
        var items = new List<RegionMeter>(limit);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            DateTimeOffset? last = r.IsDBNull(1) ? null : r.GetFieldValue<DateTimeOffset>(1);
            items.Add(new RegionMeter(r.GetString(0), StatusOf(last, now), last, r.IsDBNull(2) ? null : r.GetDouble(2), r.IsDBNull(3) ? null : r.GetDouble(3),
                r.GetInt32(4), r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5)));
        }
        return (items, total);
    }

    /// <summary>The meter's anomaly alerts seen within [from, to), oldest first.</summary>
    public async Task<IReadOnlyList<MeterAnomaly>> AnomaliesAsync(string meterId, string region, DateTimeOffset from, DateTimeOffset to, int limit,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            $"""
            SELECT alert_id, severity, status, message, first_seen_at, last_seen_at, occurrence_count FROM alerts
            WHERE type = '{AlertType.Anomaly.ToWireName()}' AND region = $1 AND meter_id = $2 AND first_seen_at < $4 AND last_seen_at >= $3
            ORDER BY first_seen_at LIMIT $5
            """, region, meterId, from, to, limit);
        var items = new List<MeterAnomaly>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            items.Add(new MeterAnomaly(r.GetGuid(0), r.GetString(1), WireName.Parse<AlertStatus>(r.GetString(2)), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4),
                r.GetFieldValue<DateTimeOffset>(5), r.GetInt32(6)));
        return items;
    }

    private string StatusOf(DateTimeOffset? lastWindowStart, DateTimeOffset now) => lastWindowStart switch
    {
        { } last when now - last <= silentAfter => "reporting",
        { } last when now - last <= passivatedAfter => "silent",
        _ => "passivated",
    };
}
