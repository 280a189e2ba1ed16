using System.Globalization;
using Akka.Event;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Storage.Alerts;

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
    private int SilenceWindows => (int)Math.Ceiling(_settings.OutageSilence.TotalMinutes);

    private async Task<OutagesChecked> CheckOutagesAsync()
    {
        var touched = new HashSet<string>();
        var resolved = await ResolveReportingAgainAsync(touched);
        var silent = await _store.SilentAsync(_time.GetUtcNow() - _settings.OutageLookback, SilenceWindows);
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
        var created = await OpenAsync(tx, new AlertOccurrence(AlertTypes.Outage, severity, silence.Region, silence.MeterId, text, metadata, lastEnd));
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
