using System.Globalization;
using Akka.Event;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Storage.Alerts;

namespace SmartGrid.Services.Alerts;

/// <summary>
/// OUTAGE and INCIDENT alerts, and the end of ANOMALY alerts: one check, every OutageCheckInterval. The
/// signal is what the pipeline stores exactly once anyway: a meter's aggregates_1m rows and its
/// region's regional_aggregates_1m rows (no extra consumer, no write per reading). Silence is counted
/// in regional windows, not in wall-clock time: a meter is silent once its region published
/// <see cref="AlertSettings.OutageSilence"/> worth of 1-minute windows after the meter's last one, a
/// region once the rest of the grid did. So a singleton handover, a restart, or the whole pipeline
/// catching up after downtime raises nothing: time without regional data is time nobody was observed,
/// not time everybody was silent. Only a meter with a cadence (<see cref="AlertSettings.OutageCadenceWindows"/>
/// windows in the lookback) can be silent: a meter seen once has no rhythm to break. Each silence episode
/// (meter or region, last window) raises at most one alert, even if an operator resolves it while the meter
/// is still silent; the alert resolves itself when a newer window arrives.
/// <para>
/// An ANOMALY ends on the same rows: the anomaly's window is its alert's last_seen_at (each repeat moves it),
/// and every later window of the meter was checked by the pipeline's detector against the meter's baseline
/// before its row was stored (the projection publishes anomalies before it writes the rows). A window after
/// last_seen_at is therefore one within the band, and <see cref="AlertSettings.AnomalyClearWindows"/> of them
/// end the alert, with no extra topic or state. A row can be stored before this manager consumed the anomaly
/// published for it, so only windows more than a minute older than the newest regional window it applied for
/// the region count (the anomalies of a window are on Kafka before the region's later windows exist); an anomaly
/// later still opens a new alert rather than being lost.
/// </para>
/// <para>
/// Storm mode (<see cref="RegionStorm"/>): before any per-meter OUTAGE is raised, the meters of each region that
/// are silent or have an open drop ANOMALY are looked at together; when more than <see cref="AlertSettings.StormShare"/>
/// of its registered meters got into trouble within <see cref="AlertSettings.StormSpan"/>, one INCIDENT is raised
/// for the region, listing them, and their alerts (and every OUTAGE or drop of the region while it is open) are
/// attached to it (incident_id): the NotificationManager notifies the incident, not each of them. The incident
/// resolves itself once none of its meters is silent or dropping.
/// </para>
/// </summary>
public sealed partial class AlertManager
{
    private int SilenceWindows => (int)Math.Ceiling(_settings.OutageSilence.TotalMinutes);

    private async Task<OutagesChecked> CheckOutagesAsync()
    {
        var touched = new HashSet<string>();
        var resolved = await ResolveReportingAgainAsync(touched) + await ResolveRecoveredAnomaliesAsync(touched);
        var silent = (await _store.SilentAsync(_time.GetUtcNow() - _settings.OutageLookback, SilenceWindows, _settings.OutageCadenceWindows))
            .Where(s => s.MeterId is null || _meterPolicy.HasCadence(s.ReportedWindows ?? 0))
            .ToList();
        var (stormRaised, stormResolved) = await ApplyStormsAsync(silent, touched);
        var raised = stormRaised;
        resolved += stormResolved;
        foreach (var silence in silent)
        {
            if (await RaiseOutageAsync(silence))
            {
                raised++;
                touched.Add(silence.Region);
            }
        }

        await AfterCheckAsync("outage", touched, raised, resolved);
        return new OutagesChecked(raised, resolved);
    }

    /// <summary>Opens, extends or resolves each region's INCIDENT; returns the incidents raised and resolved.</summary>
    private async Task<(int Raised, int Resolved)> ApplyStormsAsync(IReadOnlyList<Silence> silent, HashSet<string> touched)
    {
        var silentByRegion = silent.Where(s => s.MeterId is not null).ToLookup(s => s.Region, StringComparer.Ordinal);
        var (raised, resolved) = (0, 0);
        foreach (var region in await _store.RegionTroublesAsync(silentByRegion.Select(g => g.Key).ToList()))
        {
            var affected = silentByRegion[region.Region]
                .Select(s => new AffectedMeter(s.MeterId!, MeterTrouble.Silent, s.LastWindowStart.ToUniversalTime().AddMinutes(1)))
                .Concat(region.Drops.Select(d => new AffectedMeter(d.MeterId, MeterTrouble.Drop, d.Since.ToUniversalTime())))
                .ToList();
            var open = region.Incident is { } row ? new OpenIncident(row.AlertId, row.MeterIds) : null;
            var decision = RegionStorm.Decide(region.Region, region.RegisteredMeters, affected, open, _meterPolicy);
            if (decision is null) continue;

            await using var tx = await BeginAsync();
            switch (decision)
            {
                case IncidentOpened opened:
                    var meters = opened.Meters.Select(m => m.MeterId).ToList();
                    var incident = await OpenIncidentAsync(tx, opened.Region, meters, opened.RegisteredMeters, opened.Meters.Min(m => m.Since));
                    await tx.AttachAsync(incident.AlertId, opened.Region, meters);
                    raised++;
                    break;
                case IncidentGrew grew:
                    var joined = grew.Joined.Select(m => m.MeterId).ToList();
                    await OpenIncidentAsync(tx, grew.Region, [.. region.Incident!.MeterIds, .. joined], grew.RegisteredMeters, region.Incident.Since);
                    await tx.AttachAsync(grew.AlertId, grew.Region, joined);
                    break;
                case IncidentCleared cleared when await tx.ResolveAsync(cleared.AlertId, "system", _time.GetUtcNow()) is { } done:
                    await AuditAsync(tx, done, "resolved", "system");
                    resolved++;
                    break;
            }

            await CommitAsync(tx);
            touched.Add(region.Region);
        }

        return (raised, resolved);
    }

    /// <summary>The region's INCIDENT listing <paramref name="meters"/>: opened, or its list replaced on the open one.</summary>
    private async Task<AlertView> OpenIncidentAsync(AlertTransaction tx, string region, List<string> meters, int registered,
        DateTimeOffset since)
    {
        var share = registered == 0 ? 1 : meters.Count / (double)registered;
        var text = $"Incident in {region}: {meters.Count} of {registered} meters ({share.ToString("P0", CultureInfo.InvariantCulture)}) " +
                   $"silent or dropping together since {since.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";
        var metadata = new Dictionary<string, object?>
        {
            ["affected_count"] = meters.Count,
            ["registered_meters"] = registered,
            ["meters"] = meters,
            ["since"] = since,
        };
        var (alert, inserted) = await tx.UpsertOpenAsync(new AlertOccurrence(AlertType.Incident, Severity.Critical, region, null, text, metadata, since));
        if (inserted)
            await AuditAsync(tx, alert, "created", "system");
        return alert;
    }

    /// <summary>Resolves each open ANOMALY whose meter has reported <see cref="AlertSettings.AnomalyClearWindows"/> windows within its band since.</summary>
    private async Task<int> ResolveRecoveredAnomaliesAsync(HashSet<string> touched)
    {
        var resolved = 0;
        foreach (var recovery in await _store.AnomalyRecoveriesAsync(_settings.AnomalyClearWindows))
        {
            if (!_meterPolicy.IsAnomalyOver(recovery.WindowsSince)) continue;
            await using var tx = await BeginAsync();
            if (await tx.ResolveAsync(recovery.AlertId, "system", _time.GetUtcNow()) is not { } alert) continue;
            await AuditAsync(tx, alert, "resolved", "system");
            await CommitAsync(tx);
            touched.Add(recovery.Region);
            resolved++;
        }

        return resolved;
    }

    /// <summary>One alert per silence episode; false when this episode was already raised (then nothing changes).</summary>
    private async Task<bool> RaiseOutageAsync(Silence silence)
    {
        var lastStart = silence.LastWindowStart.ToUniversalTime();
        var lastEnd = lastStart.AddMinutes(1);
        await using var tx = await BeginAsync();
        if (!await tx.RememberSourceAsync($"outage:{silence.Region}:{silence.MeterId}:{lastStart:O}"))
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
        var incident = silence.MeterId is null ? null : await tx.OpenIncidentAsync(silence.Region);
        var created = await OpenAsync(tx,
            new AlertOccurrence(AlertType.Outage, severity, silence.Region, silence.MeterId, text, metadata, lastEnd, incident));
        await CommitAsync(tx);
        return created;
    }

    private async Task<int> ResolveReportingAgainAsync(HashSet<string> touched)
    {
        var resolved = 0;
        foreach (var (alertId, region) in await _store.ReportingAgainAsync())
        {
            await using var tx = await BeginAsync();
            if (await tx.ResolveAsync(alertId, "system", _time.GetUtcNow()) is not { } alert) continue;
            await AuditAsync(tx, alert, "resolved", "system");
            await CommitAsync(tx);
            touched.Add(region);
            resolved++;
        }

        return resolved;
    }
}
