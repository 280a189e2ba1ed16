using System.Globalization;
using Akka.Event;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Storage.Alerts;

namespace SmartGrid.Services.Alerts;

/// <summary>
/// POWER_QUALITY and SWELL alerts (issue 17): one check, every PowerQualityCheckInterval, on what the pipeline stores
/// exactly once anyway (voltage_10m, voltage_events), with no extra consumer and no write per reading.
/// <para>
/// A meter whose 10-minute means over the last PowerQualityPeriod fail EN 50160 (fewer than 95 % within ±10 % of its
/// region's nominal, or one outside −15 %/+10 %), judged once it has PowerQualityMinimumWindows of them, raises one
/// POWER_QUALITY alert (<see cref="PowerQualityAlertPolicy"/>); it resolves itself once the same test passes. A swell
/// that started within the last SwellQuiet raises a SWELL alert for its meter (each swell counted once, by meter and
/// start, as a repeat on the open alert); it resolves itself when the meter has had none for SwellQuiet. Both are
/// about a meter, in its region, so operators see them with their regions' alerts.
/// </para>
/// </summary>
public sealed partial class AlertManager
{
    private async Task<PowerQualityChecked> CheckPowerQualityAsync()
    {
        var policy = _settings.PowerQuality;
        var now = _time.GetUtcNow();
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var (raised, resolved) = (0, 0);

        var open = (await _store.OpenMeterAlertsAsync(AlertType.PowerQuality)).ToDictionary(a => (a.Region, a.MeterId));
        foreach (var meter in await _store.VoltageSummariesAsync(now - policy.Period, now))
        {
            var verdict = policy.NonCompliant(meter.Compliance);
            var isOpen = open.TryGetValue((meter.Region, meter.MeterId), out var alert);
            if (verdict == true && !isOpen && await RaiseAsync(NonComplianceAlert(meter, policy, now)))
                raised++;
            else if (verdict == false && isOpen && await ResolveBySystemAsync(alert.AlertId))
                resolved++;
            else
                continue;
            touched.Add(meter.Region);
        }

        foreach (var swell in await _store.SwellsSinceAsync(now - policy.SwellQuiet))
        {
            await using var tx = await BeginAsync();
            if (!await tx.RememberSourceAsync($"swell:{swell.MeterId}:{swell.Start.ToUniversalTime():O}"))
                continue;
            var metadata = new Dictionary<string, object?>
            {
                ["start"] = swell.Start, ["end"] = swell.End, ["extreme_voltage"] = swell.ExtremeVoltage, ["nominal_voltage"] = swell.NominalVoltage,
                ["percent_of_nominal"] = Math.Round(swell.ExtremeVoltage / swell.NominalVoltage * 100, 1),
            };
            var text = $"Voltage swell on meter {swell.MeterId}: {swell.ExtremeVoltage.ToString("F1", CultureInfo.InvariantCulture)} V, " +
                       $"{swell.ExtremeVoltage / swell.NominalVoltage * 100:F1}% of nominal";
            if (await OpenAsync(tx, new AlertOccurrence(AlertType.Swell, PowerQualityAlertPolicy.SwellSeverity(swell.ExtremeVoltage, swell.NominalVoltage),
                    swell.Region, swell.MeterId, text, metadata, swell.Start)))
                raised++;
            await CommitAsync(tx);
            touched.Add(swell.Region);
        }

        foreach (var quiet in (await _store.OpenMeterAlertsAsync(AlertType.Swell)).Where(a => a.LastSeenAt < now - policy.SwellQuiet))
        {
            if (!await ResolveBySystemAsync(quiet.AlertId))
                continue;
            resolved++;
            touched.Add(quiet.Region);
        }

        await AfterCheckAsync("power-quality", touched, raised, resolved);
        return new PowerQualityChecked(raised, resolved);
    }

    private static AlertOccurrence NonComplianceAlert(MeterVoltageSummary meter, PowerQualityAlertPolicy policy, DateTimeOffset now)
    {
        var c = meter.Compliance;
        var metadata = new Dictionary<string, object?>
        {
            ["period_days"] = policy.Period.TotalDays, ["windows"] = c.Windows, ["within_band_share"] = c.WithinBandShare,
            ["range_a_share"] = c.RangeAShare, ["lowest_mean"] = c.LowestMean, ["highest_mean"] = c.HighestMean, ["nominal_voltage"] = meter.Nominal,
        };
        var text = $"Meter {meter.MeterId} not EN 50160 compliant over {policy.Period.TotalDays:0.#} days: " +
                   $"{c.WithinBandShare * 100:F1}% of {c.Windows} 10-minute means within ±10% of {meter.Nominal:0.#} V " +
                   $"(lowest {c.LowestMean:F1} V, highest {c.HighestMean:F1} V)";
        return new AlertOccurrence(AlertType.PowerQuality, PowerQualityAlertPolicy.NonComplianceSeverity, meter.Region, meter.MeterId, text, metadata, now);
    }

    private async Task<bool> RaiseAsync(AlertOccurrence occurrence)
    {
        await using var tx = await BeginAsync();
        var created = await OpenAsync(tx, occurrence);
        await CommitAsync(tx);
        return created;
    }

    private async Task<bool> ResolveBySystemAsync(Guid alertId)
    {
        await using var tx = await BeginAsync();
        if (await tx.ResolveAsync(alertId, "system", _time.GetUtcNow()) is not { } alert)
            return false;
        await AuditAsync(tx, alert, "resolved", "system");
        await CommitAsync(tx);
        return true;
    }
}
