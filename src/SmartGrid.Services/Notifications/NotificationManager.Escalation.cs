using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Domain.Alerts;
using SmartGrid.Storage;

namespace SmartGrid.Services.Notifications;

/// <summary>Asks the NotificationManager to send what is due now (reminders, escalation pages, digests); its own timer sends it too.</summary>
public sealed class CheckEscalations
{
    public static readonly CheckEscalations Instance = new();
}

/// <summary>The answer to an explicit <see cref="CheckEscalations"/>: escalation steps recorded and digests sent.</summary>
public sealed record EscalationsChecked(int Steps, int Digests);

/// <summary>
/// Reminders, escalation and digests. Time comes from the <see cref="TimeProvider"/>; state from PostgreSQL
/// (alert_escalations, notification_log), so a handover or restart resumes where the last owner stopped. Every message goes
/// out under an idempotency key derived from the step that sends it (reminder:{alert}:{n}, escalation:{alert}:{tier},
/// digest:{user}:{first item}) before that step is recorded: a step repeated after a crash finds its messages sent.
/// </summary>
public sealed partial class NotificationManager
{
    private const string EscalationTimer = "escalation";
    private const string EmailChannelName = "email";
    private const string WebhookChannelName = "webhook";
    /// <summary>Steps per check at most, so a backlog (after downtime) does not hold up the alert events for long; the rest go at the next check.</summary>
    private const int MaxStepsPerCheck = 500;
    private const int MaxStepsPerAlert = 16;

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer(EscalationTimer, CheckEscalations.Instance, _settings.EscalationCheckInterval);
    }

    private async Task<RecordHandled> OnAlertEventAsync(AlertEventMessage message, string json)
    {
        var alert = message.Alert;
        if (message.Event is "acknowledged" or "resolved")
            await _escalations.StopAsync(alert.AlertId, _time.GetUtcNow());
        if (FromAlert(message, json) is not { } e)
            return RecordHandled.Ignored;
        if (message.Event != "created")
            return await NotifyAsync(e);

        // Tier 1 of the alert's policy is told with everyone else; the escalation starts once they have been
        // (a redelivered "created" finds both done: its deliveries by their keys, the escalation row by its alert).
        var policy = EscalationPolicy.For(await PoliciesAsync(), alert.Severity, alert.Type, alert.Region);
        var first = policy?.Tiers[0];
        var outcome = await NotifyAsync(e with { TargetUsers = [.. first?.Users ?? []], TargetRoles = [.. first?.Roles ?? []] });
        if (alert.Status == AlertStatus.Active)
            await _escalations.StartAsync(AlertEscalation.Start(alert.AlertId, alert.Region, alert.Type, alert.Severity, policy, _time.GetUtcNow()));
        return outcome;
    }

    private async Task<IReadOnlyList<EscalationPolicy>> PoliciesAsync() => (await _escalations.ListAsync()).Select(p => p.Policy).ToList();

    private async Task OnCheckEscalationsAsync(CheckEscalations _)
    {
        var sender = Sender;
        try
        {
            var steps = await EscalateAsync();
            var digests = await SendDigestsAsync();
            if (!sender.IsNobody() && !sender.Equals(Self)) sender.Tell(new EscalationsChecked(steps, digests));
        }
        catch (Exception e)
        {
            Log.Warning(e, "{0}: escalation check failed, retried at the next interval", Self.Path.Name);
            if (!sender.IsNobody() && !sender.Equals(Self)) sender.Tell(new Status.Failure(e));
        }
    }

    private async Task<int> EscalateAsync()
    {
        var policies = await PoliciesAsync();
        var steps = 0;
        foreach (var (running, status, severity) in await _escalations.RunningAsync())
        {
            if (steps >= MaxStepsPerCheck)
                break;
            var escalation = running;
            for (var i = 0; i < MaxStepsPerAlert; i++)
            {
                var now = _time.GetUtcNow();
                var policy = policies.FirstOrDefault(p => p.PolicyId == escalation.PolicyId);
                var step = escalation.Decide(now, status, severity, policy,
                    s => EscalationPolicy.For(policies, s, escalation.AlertType, escalation.Region),
                    s => _settings.ReminderIntervals.TryGetValue(s, out var every) ? every : null, _settings.MaxReminders);
                if (step is null)
                    break;
                var next = escalation.Apply(step, now);
                (string, string)? timeline = null;
                switch (step)
                {
                    case Escalated up:
                        await PageAsync(escalation, up, now);
                        timeline = ("escalated", $"tier {up.Tier} of {up.Policy.Name} paged: unacknowledged for {Minutes(up.Policy.Tiers[up.Tier - 2].Wait)}");
                        break;
                    case Reminded reminder:
                        await RemindAsync(escalation, reminder, policy, now);
                        break;
                    case DeEscalated down:
                        timeline = ("de-escalated", $"severity fell from {down.From} to {down.To}: back to tier 1"
                            + (down.Policy is null ? ", no escalation policy" : $" of {down.Policy.Name}"));
                        break;
                }
                if (!await _escalations.AdvanceAsync(escalation, next, step is EscalationStopped, now, timeline))
                    break;
                steps++;
                escalation = next;
                if (step is EscalationStopped)
                    break;
            }
        }
        return steps;
    }

    private static string Minutes(TimeSpan wait) => wait.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture) + " min";

    private async Task PageAsync(AlertEscalation escalation, Escalated up, DateTimeOffset now)
    {
        if (await _alerts.FindAsync(escalation.AlertId, CancellationToken.None) is not { } alert)
            return;
        var tier = up.Policy.Tiers[up.Tier - 1];
        var values = AlertValues(alert, 0, "escalated", "system", now);
        values["tier"] = up.Tier.ToString(CultureInfo.InvariantCulture);
        values["policy"] = up.Policy.Name;
        await NotifyAsync(new NotificationEvent($"escalation:{alert.AlertId}:{up.Tier}", NotificationTemplates.AlertEscalated, alert.Region,
            alert.Severity, alert.MeterId, values, WireJson.Serialize(new AlertEventMessage(0, "escalated", "system", now, alert)))
        {
            AlertId = alert.AlertId, AlertType = alert.Type, Kind = Kinds.Escalated, RegionRecipients = false,
            TargetUsers = [.. tier.Users], TargetRoles = [.. tier.Roles],
        });
    }

    /// <summary>Everyone told so far: the region's recipients and the tiers paged up to now.</summary>
    private async Task RemindAsync(AlertEscalation escalation, Reminded reminder, EscalationPolicy? policy, DateTimeOffset now)
    {
        if (await _alerts.FindAsync(escalation.AlertId, CancellationToken.None) is not { } alert)
            return;
        var tiers = policy?.Tiers.Take(escalation.Tier).ToList() ?? [];
        var values = AlertValues(alert, 0, "reminded", "system", now);
        values["reminder"] = reminder.Number.ToString(CultureInfo.InvariantCulture);
        // The step is in the key: after a de-escalation reminders count from 1 again yet are new messages.
        await NotifyAsync(new NotificationEvent($"reminder:{alert.AlertId}:{reminder.Number}:{escalation.Step}", NotificationTemplates.AlertReminder,
            alert.Region, alert.Severity, alert.MeterId, values, WireJson.Serialize(new AlertEventMessage(0, "reminded", "system", now, alert)))
        {
            AlertId = alert.AlertId, AlertType = alert.Type, Kind = Kinds.Reminded,
            TargetUsers = [.. tiers.SelectMany(t => t.Users).Distinct()], TargetRoles = [.. tiers.SelectMany(t => t.Roles).Distinct()],
        });
    }

    /// <summary>
    /// For each recipient whose oldest waiting notification has waited <see cref="NotificationSettings.DigestInterval"/>: one
    /// email listing everything waiting. The digest row and its items are claimed in one transaction, then sent; a digest
    /// claimed but not sent (the owner stopped) is still pending and goes at the next check.
    /// </summary>
    private async Task<int> SendDigestsAsync()
    {
        if (_channels.FirstOrDefault(c => c.Name == EmailChannelName) is not { } email)
            return 0;
        var now = _time.GetUtcNow();
        await _log.ClaimDigestsAsync(now - _settings.DigestInterval, EmailChannelName, NotificationTemplates.AlertDigest, now);
        var pending = await _log.PendingDigestsAsync();

        var deliveries = pending.Select(d =>
        {
            var values = new Dictionary<string, object?>
            {
                ["count"] = d.Items.Count, ["items"] = d.Items, ["since"] = Utc(d.Since), ["digest_below"] = _settings.DigestBelow,
            };
            var (subject, text, html) = _templates.Render(NotificationTemplates.AlertDigest, values);
            return (d.Id, email, new Notification(d.IdempotencyKey, NotificationTemplates.AlertDigest, d.Destination, subject, text, html, values));
        }).ToList();
        var (sent, _) = await DeliverAllAsync(deliveries);
        return sent;
    }
}
