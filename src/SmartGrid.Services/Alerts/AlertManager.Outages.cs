using System.Globalization;
using Akka.Event;
using SmartGrid.Domain;
using SmartGrid.Services.Common;

namespace SmartGrid.Services.Alerts;

/// <summary>
/// OUTAGE alerts. The signal is what the pipeline stores exactly once anyway: a meter's
/// aggregates_1m rows and its region's regional_aggregates_1m rows (no extra consumer, no write
/// per reading). Silence is counted in regional windows, not in wall-clock time: a meter is
/// silent once its region published <see cref="AlertSettings.OutageSilence"/> worth of 1-minute
/// windows after the meter's last one, a region once the rest of the grid did. So a singleton
/// handover, a restart, or the whole pipeline catching up after downtime raises nothing: time
/// without regional data is time nobody was observed, not time everybody was silent. Each silence
/// episode (meter or region, last window) raises at most one alert, even if an operator resolves
/// it while the meter is still silent; the alert resolves itself when a newer window arrives.
/// </summary>
public sealed partial class AlertManager
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

    private int SilenceWindows => (int)Math.Ceiling(_settings.OutageSilence.TotalMinutes);

    private async Task<OutagesChecked> CheckOutagesAsync()
    {
        var touched = new HashSet<string>();
        var resolved = await ResolveReportingAgainAsync(touched);
        var horizon = _time.GetUtcNow() - _settings.OutageLookback;
        var silent = new List<Silence>();
        await using (var connection = await _db.OpenConnectionAsync())
        {
            await using (var command = Db.Command(connection, null, SilentRegionsSql, horizon, SilenceWindows))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    silent.Add(new Silence(reader.GetString(0), null, reader.GetFieldValue<DateTimeOffset>(1), (int)reader.GetInt64(2),
                        reader.GetFieldValue<DateTimeOffset>(3)));
            }

            await using (var command = Db.Command(connection, null, SilentMetersSql, horizon, SilenceWindows))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                    silent.Add(new Silence(reader.GetString(1), reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(2),
                        (int)reader.GetInt64(3), reader.GetFieldValue<DateTimeOffset>(4)));
            }
        }

        var raised = 0;
        foreach (var silence in silent)
        {
            if (await RaiseOutageAsync(silence))
            {
                raised++;
                touched.Add(silence.Region);
            }
        }

        foreach (var region in touched)
            await AfterCommitAsync(region);
        if (raised + resolved > 0)
            Log.Info("alert-manager: outage check raised {0} and resolved {1} alert(s)", raised, resolved);
        return new OutagesChecked(raised, resolved);
    }

    /// <summary>One alert per silence episode; false when this episode was already raised (then nothing changes).</summary>
    private async Task<bool> RaiseOutageAsync(Silence silence)
    {
        var lastStart = silence.LastWindowStart.ToUniversalTime();
        var lastEnd = lastStart.AddMinutes(1);
        var sourceKey = $"outage:{silence.Region}:{silence.MeterId}:{lastStart:O}";
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await BeginAsync(connection);
        if (await Db.ExecuteAsync(connection, tx, "INSERT INTO alert_source_events (source_key) VALUES ($1) ON CONFLICT DO NOTHING", sourceKey) == 0)
            return false;

        var since = lastEnd.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        var text = silence.MeterId is { } meter
            ? $"Meter {meter} in {silence.Region} silent since {since} UTC: its region reported {silence.WindowsSince} minutes without it"
            : $"Region {silence.Region} silent since {since} UTC: the rest of the grid reported {silence.WindowsSince} minutes without it";
        var metadata = new Dictionary<string, object?>
        {
            ["last_window_start"] = lastStart,
            ["silent_windows"] = silence.WindowsSince,
            ["threshold_windows"] = SilenceWindows,
            ["newest_window_start"] = silence.NewestWindowStart.ToUniversalTime(),
        };
        var severity = silence.MeterId is null ? Severity.Critical : Severity.High;
        var created = await UpsertAlertAsync(connection, tx, AlertTypes.Outage, severity, silence.Region, silence.MeterId, text, metadata, lastEnd);
        await CommitAsync(tx);
        return created;
    }

    private async Task<int> ResolveReportingAgainAsync(HashSet<string> touched)
    {
        var reporting = new List<(Guid AlertId, string Region)>();
        await using (var connection = await _db.OpenConnectionAsync())
        await using (var command = Db.Command(connection, null, ReportingAgainSql))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                reporting.Add((reader.GetGuid(0), reader.GetString(1)));
        }

        var resolved = 0;
        foreach (var (alertId, region) in reporting)
        {
            await using var connection = await _db.OpenConnectionAsync();
            await using var tx = await BeginAsync(connection);
            AlertView? alert = null;
            await using (var command = Db.Command(connection, tx, $"""
                             UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = 'system', updated_at = now()
                             WHERE alert_id = $1 AND status <> 'resolved'
                             RETURNING {AlertColumns}
                             """, alertId, _time.GetUtcNow()))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                if (await reader.ReadAsync()) alert = ReadAlert(reader);
            }

            if (alert is null) continue;
            await AuditAsync(connection, tx, alert, "resolved", "system");
            await CommitAsync(tx);
            touched.Add(region);
            resolved++;
        }

        return resolved;
    }

    private sealed record Silence(string Region, string? MeterId, DateTimeOffset LastWindowStart, int WindowsSince, DateTimeOffset NewestWindowStart);
}
