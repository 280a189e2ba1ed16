namespace SmartGrid.Storage.Alerts;

/// <summary>
/// A meter (<see cref="MeterId"/> set) or a region that stayed silent while its region (or the rest of the grid) reported
/// <see cref="WindowsSince"/> 1-minute windows after its last one, <see cref="LastWindowStart"/>. A meter's
/// <see cref="ReportedWindows"/> is how many windows it reported up to its last one within the lookback (counted up to the
/// cadence asked for, no further); a region's is null.
/// </summary>
public sealed record Silence(string Region, string? MeterId, DateTimeOffset LastWindowStart, int WindowsSince, DateTimeOffset NewestWindowStart,
    int? ReportedWindows = null);

/// <summary>An open ANOMALY alert and how many windows its meter reported after the last anomalous one (counted up to the number asked for).</summary>
public sealed record AnomalyRecovery(Guid AlertId, string Region, int WindowsSince);

/// <summary>What storm mode looks at in one region: its registered meters, the meters with an open drop ANOMALY, its open INCIDENT.</summary>
public sealed record RegionTroubles(string Region, int RegisteredMeters, IReadOnlyList<(string MeterId, DateTimeOffset Since)> Drops,
    IncidentRow? Incident);

/// <summary>An open INCIDENT: the meters it lists and since when (its first_seen_at).</summary>
public sealed record IncidentRow(Guid AlertId, IReadOnlyList<string> MeterIds, DateTimeOffset Since);

/// <summary>
/// The outage signal, read from what the pipeline stores exactly once anyway: a meter's aggregates_1m rows and its
/// region's regional_aggregates_1m rows.
/// </summary>
public sealed partial class AlertStore
{
    private const string SilentMetersSql = """
        WITH last AS (
            SELECT m.meter_id, l.region, l.window_start AS last_start
            FROM meters m
            CROSS JOIN LATERAL (
                SELECT a.region, a.window_start FROM aggregates_1m a
                WHERE a.meter_id = m.meter_id AND a.window_start > $1
                ORDER BY a.window_start DESC LIMIT 1) l
        )
        SELECT last.meter_id, last.region, last.last_start, r.windows, r.newest, k.reported
        FROM last
        CROSS JOIN LATERAL (
            SELECT count(*) AS windows, max(g.window_start) AS newest FROM regional_aggregates_1m g
            WHERE g.region = last.region AND g.window_start > last.last_start) r
        CROSS JOIN LATERAL (
            SELECT count(*) AS reported FROM (
                SELECT 1 FROM aggregates_1m c
                WHERE c.meter_id = last.meter_id AND c.window_start > $1 AND c.window_start <= last.last_start
                ORDER BY c.window_start DESC LIMIT $3) c) k
        WHERE r.windows >= $2
        ORDER BY last.region, last.meter_id
        """;

    private const string SilentRegionsSql = """
        WITH last AS (
            SELECT region, max(window_start) AS last_start FROM regional_aggregates_1m
            WHERE window_start > $1 GROUP BY region
        )
        SELECT last.region, last.last_start, r.windows, r.newest
        FROM last
        CROSS JOIN LATERAL (
            SELECT count(DISTINCT g.window_start) AS windows, max(g.window_start) AS newest FROM regional_aggregates_1m g
            WHERE g.window_start > last.last_start) r
        WHERE r.windows >= $2
        ORDER BY last.region
        """;

    private const string ReportingAgainSql = """
        SELECT a.alert_id, a.region FROM alerts a
        WHERE a.type = 'OUTAGE' AND a.status <> 'resolved' AND (
              (a.meter_id IS NOT NULL AND EXISTS (
                  SELECT 1 FROM aggregates_1m w
                  WHERE w.meter_id = a.meter_id AND w.window_start > (a.metadata ->> 'last_window_start')::timestamptz))
           OR (a.meter_id IS NULL AND EXISTS (
                  SELECT 1 FROM regional_aggregates_1m r
                  WHERE r.region = a.region AND r.window_start > (a.metadata ->> 'last_window_start')::timestamptz)))
        """;

    // Windows after the anomaly's: last_seen_at is the newest anomalous window's start (a repeat moves it), and the
    // detector checked every later window of the meter against its baseline, so these were all within the band.
    // Only windows the AlertManager has heard the anomalies of count: those more than a minute older than the newest
    // regional window it applied for the region (alert_region_state), since the anomalies of a window are published
    // before the region's later windows exist.
    private const string AnomalyRecoverySql = """
        SELECT a.alert_id, a.region, k.windows FROM alerts a
        JOIN alert_region_state r ON r.region = a.region
        CROSS JOIN LATERAL (
            SELECT count(*) AS windows FROM (
                SELECT 1 FROM aggregates_1m w
                WHERE w.meter_id = a.meter_id AND w.window_start > a.last_seen_at
                  AND w.window_start < (r.state ->> 'newest_window_start')::timestamptz - interval '1 minute'
                ORDER BY w.window_start LIMIT $1) w) k
        WHERE a.type = 'ANOMALY' AND a.status <> 'resolved'
        """;

    private const string RegionTroublesSql = """
        WITH regions AS (
            SELECT region FROM alerts WHERE status <> 'resolved' AND (type = 'INCIDENT' OR (type = 'ANOMALY' AND metadata ->> 'kind' = 'drop'))
            UNION SELECT unnest($1::text[])
        )
        SELECT r.region,
               (SELECT count(*) FROM meters m WHERE m.region = r.region),
               (SELECT coalesce(array_agg(a.meter_id ORDER BY a.meter_id), '{}') FROM alerts a
                WHERE a.region = r.region AND a.type = 'ANOMALY' AND a.status <> 'resolved' AND a.metadata ->> 'kind' = 'drop'),
               (SELECT coalesce(array_agg(a.first_seen_at ORDER BY a.meter_id), '{}') FROM alerts a
                WHERE a.region = r.region AND a.type = 'ANOMALY' AND a.status <> 'resolved' AND a.metadata ->> 'kind' = 'drop'),
               i.alert_id,
               coalesce(ARRAY(SELECT jsonb_array_elements_text(i.metadata -> 'meters')), '{}'),
               i.first_seen_at
        FROM regions r
        LEFT JOIN alerts i ON i.type = 'INCIDENT' AND i.region = r.region AND i.meter_id IS NULL AND i.status <> 'resolved'
        ORDER BY r.region
        """;

    /// <summary>
    /// Regions, then meters, heard of after <paramref name="horizon"/> and silent for at least <paramref name="windows"/> regional
    /// windows since; a meter's reported windows are counted up to <paramref name="cadenceWindows"/>.
    /// </summary>
    public async Task<IReadOnlyList<Silence>> SilentAsync(DateTimeOffset horizon, int windows, int cadenceWindows)
    {
        var silent = new List<Silence>();
        await using var connection = await db.OpenConnectionAsync();
        await using (var command = Db.Command(connection, null, SilentRegionsSql, horizon, windows))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                silent.Add(new Silence(reader.GetString(0), null, reader.GetFieldValue<DateTimeOffset>(1), (int)reader.GetInt64(2),
                    reader.GetFieldValue<DateTimeOffset>(3)));
        }

        await using (var command = Db.Command(connection, null, SilentMetersSql, horizon, windows, cadenceWindows))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                silent.Add(new Silence(reader.GetString(1), reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(2),
                    (int)reader.GetInt64(3), reader.GetFieldValue<DateTimeOffset>(4), (int)reader.GetInt64(5)));
        }

        return silent;
    }

    /// <summary>Every open ANOMALY alert with the windows its meter reported since its last anomalous one, counted up to <paramref name="enough"/>.</summary>
    public async Task<IReadOnlyList<AnomalyRecovery>> AnomalyRecoveriesAsync(int enough)
    {
        var recoveries = new List<AnomalyRecovery>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, AnomalyRecoverySql, enough);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            recoveries.Add(new AnomalyRecovery(reader.GetGuid(0), reader.GetString(1), (int)reader.GetInt64(2)));
        return recoveries;
    }

    /// <summary>
    /// Storm mode's inputs for <paramref name="regions"/> (those with silent meters) and every region with an open drop ANOMALY
    /// or an open INCIDENT.
    /// </summary>
    public async Task<IReadOnlyList<RegionTroubles>> RegionTroublesAsync(IReadOnlyCollection<string> regions)
    {
        var troubles = new List<RegionTroubles>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, RegionTroublesSql, (object)regions.ToArray());
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var meters = reader.GetFieldValue<string[]>(2);
            var since = reader.GetFieldValue<DateTimeOffset[]>(3);
            troubles.Add(new RegionTroubles(reader.GetString(0), (int)reader.GetInt64(1), meters.Zip(since).ToList(),
                reader.IsDBNull(4) ? null : new IncidentRow(reader.GetGuid(4), reader.GetFieldValue<string[]>(5), reader.GetFieldValue<DateTimeOffset>(6))));
        }

        return troubles;
    }

    /// <summary>Open OUTAGE alerts whose meter or region reported a window after the one they were raised for.</summary>
    public async Task<IReadOnlyList<(Guid AlertId, string Region)>> ReportingAgainAsync()
    {
        var reporting = new List<(Guid AlertId, string Region)>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, ReportingAgainSql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            reporting.Add((reader.GetGuid(0), reader.GetString(1)));
        return reporting;
    }
}
