namespace SmartGrid.Storage.Alerts;

/// <summary>
/// A meter (<see cref="MeterId"/> set) or a region that stayed silent while its region (or the rest of the grid) reported
/// <see cref="WindowsSince"/> 1-minute windows after its last one, <see cref="LastWindowStart"/>.
/// </summary>
public sealed record Silence(string Region, string? MeterId, DateTimeOffset LastWindowStart, int WindowsSince, DateTimeOffset NewestWindowStart);

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
        SELECT last.meter_id, last.region, last.last_start, r.windows, r.newest
        FROM last
        CROSS JOIN LATERAL (
            SELECT count(*) AS windows, max(g.window_start) AS newest FROM regional_aggregates_1m g
            WHERE g.region = last.region AND g.window_start > last.last_start) r
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

    /// <summary>
    /// Regions, then meters, heard of after <paramref name="horizon"/> and silent for at least <paramref name="windows"/> regional
    /// windows since.
    /// </summary>
    public async Task<IReadOnlyList<Silence>> SilentAsync(DateTimeOffset horizon, int windows)
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

        await using (var command = Db.Command(connection, null, SilentMetersSql, horizon, windows))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                silent.Add(new Silence(reader.GetString(1), reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(2),
                    (int)reader.GetInt64(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return silent;
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
