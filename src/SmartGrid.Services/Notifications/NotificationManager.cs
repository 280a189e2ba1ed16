using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Contracts.Notifications;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Tariffs;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Storage;
using SmartGrid.Storage.Alerts;
using SmartGrid.Storage.Notifications;

namespace SmartGrid.Services.Notifications;

/// <summary>
/// Tells users about alerts and tariff changes (cluster singleton, role services). Consumes the
/// alerts and tariff_updates topics (group notification-service-group); for each event it picks
/// the recipients from users and notification_preferences — operators and admins of the alert's
/// region whose minimum severity it reaches, the owner of the alert's meter, the users with a meter
/// in the region of a tariff change; users without preferences count with
/// <see cref="NotificationDefaults"/> — renders the event's template and sends it on each channel
/// the recipient enabled. During a recipient's quiet hours SMS and push are held back below
/// critical (logged as <see cref="NotificationLog.SuppressedQuietHours"/>, never sent later). Beyond the
/// <see cref="RecipientRateLimit"/> of a recipient's channel a delivery is logged as
/// <see cref="NotificationLog.RateLimited"/> and never sent later either; critical alerts are exempt (and do not use
/// up the limit): a user must hear of those even when a lesser alert flaps. Below
/// <see cref="NotificationSettings.DigestBelow"/> a person's notification waits for their digest email instead, and a user's
/// alert_rules choose channels per alert type and severity. Reminders, escalation tiers and digests are sent by a timer
/// (NotificationManager.Escalation.cs).
/// <para>
/// Every (event, recipient, channel) is a notification_log row whose idempotency key is unique:
/// a redelivered event finds its rows sent or failed and sends nothing again. Each delivery is
/// tried up to <see cref="NotificationSettings.MaxAttempts"/> times with exponential back-off and
/// jitter, deliveries run concurrently (at most <see cref="NotificationSettings.MaxConcurrentDeliveries"/>)
/// so a failing channel does not hold up the others, and the
/// record is answered (its offset committed) only once every outcome is recorded.
/// </para>
/// </summary>
public sealed partial class NotificationManager : ManagerActor
{
    public const string Name = "notification-manager";

    private readonly NotificationSettings _settings;
    private readonly NotificationLog _log;
    private readonly IReadOnlyList<INotificationChannel> _channels;
    private readonly NotificationTemplates _templates;
    private readonly TimeProvider _time;
    private readonly RecipientRateLimit? _rateLimit;
    private readonly EscalationStore _escalations;
    private readonly AlertStore _alerts;

    public NotificationManager(NotificationSettings settings, NpgsqlDataSource db, IEnumerable<INotificationChannel> channels,
        NotificationTemplates templates, TimeProvider time, RecipientRateLimit? rateLimit)
        : base(settings.Consumer, settings.MaintenanceInterval,
            TopicReader.Of<AlertEventMessage>(settings.AlertsTopic, MessageValidation.Validated),
            TopicReader.Of<TariffUpdateMessage>(settings.TariffUpdatesTopic, MessageValidation.Validated))
    {
        _settings = settings;
        _log = new NotificationLog(db);
        _channels = channels.ToList();
        _templates = templates;
        _time = time;
        _rateLimit = rateLimit;
        _escalations = new EscalationStore(db);
        _alerts = new AlertStore(db);
        ReceiveAsync<CheckEscalations>(OnCheckEscalationsAsync);
    }

    /// <param name="rateLimit">null: no per-recipient limit.</param>
    public static Props Props(NotificationSettings settings, NpgsqlDataSource db, IEnumerable<INotificationChannel> channels,
        NotificationTemplates? templates = null, TimeProvider? time = null, RecipientRateLimit? rateLimit = null) =>
        Akka.Actor.Props.Create(() => new NotificationManager(settings, db, channels, templates ?? new NotificationTemplates(),
            time ?? TimeProvider.System, rateLimit));

    protected override async Task<RecordHandled> HandleRecordAsync(ConsumedRecord record, object message)
    {
        switch (message)
        {
            case AlertEventMessage alert:
                return await OnAlertEventAsync(alert, record.Value);
            case TariffUpdateMessage tariff when FromTariff(tariff, record.Value) is { } e:
                return await NotifyAsync(e);
            default:
                return RecordHandled.Ignored;
        }
    }

    protected override Task MaintainAsync() => Task.CompletedTask;

    /// <summary>The values every alert template can use.</summary>
    private static Dictionary<string, object?> AlertValues(AlertView alert, long eventId, string @event, string actor, DateTimeOffset occurredAt) => new()
    {
        ["event_id"] = eventId.ToString(CultureInfo.InvariantCulture),
        ["event"] = @event,
        ["actor"] = actor,
        ["occurred_at"] = Utc(occurredAt),
        ["alert_id"] = alert.AlertId.ToString(),
        ["type"] = alert.Type.ToWireName(),
        ["severity"] = alert.Severity,
        ["region"] = alert.Region,
        ["meter_id"] = alert.MeterId,
        ["message"] = alert.Message,
        ["status"] = alert.Status.ToWireName(),
        ["first_seen_at"] = Utc(alert.FirstSeenAt),
    };

    private static string Utc(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static NotificationEvent? FromAlert(AlertEventMessage message, string json)
    {
        var alert = message.Alert;
        // Storm mode: a meter's alert attached to a regional incident is told through the incident, once.
        if (alert.IncidentId is not null) return null;
        var template = message.Event switch
        {
            "created" => NotificationTemplates.AlertCreated,
            "acknowledged" => NotificationTemplates.AlertAcknowledged,
            "resolved" => NotificationTemplates.AlertResolved,
            _ => null,
        };
        if (template is null) return null;
        var values = AlertValues(alert, message.EventId, message.Event, message.Actor, message.OccurredAt);
        values["occurred_at"] = message.OccurredAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        return new NotificationEvent($"alert:{message.EventId}", template, alert.Region, alert.Severity, alert.MeterId, values, json)
        {
            AlertId = alert.AlertId, AlertType = alert.Type, MachinesOnly = IsQuietEnd(message),
        };
    }

    /// <summary>
    /// A below-critical alert that ended by itself (the meter reported again, the load fell back): the condition is gone and
    /// nobody has anything to do, so a person is not interrupted for it (the alert's timeline and webhooks still show it).
    /// A critical one's end is told: someone may be on the way.
    /// </summary>
    private static bool IsQuietEnd(AlertEventMessage message) =>
        message.Event == "resolved" && message.Actor == "system"
        && SeverityExtensions.RankOf(message.Alert.Severity) < SeverityExtensions.RankOf("critical");

    private static NotificationEvent? FromTariff(TariffUpdateMessage message, string json)
    {
        if (message.OldPrice is not { } old || old == message.NewPrice) return null;
        var template = message.NewPrice > old ? NotificationTemplates.TariffIncreased : NotificationTemplates.TariffDecreased;
        var change = old == 0 ? 0 : Math.Abs(message.NewPrice - old) / old * 100;
        var values = new Dictionary<string, object?>
        {
            ["tariff_id"] = message.TariffId.ToString(),
            ["region"] = message.Region,
            ["old_price"] = old.ToString("F2", CultureInfo.InvariantCulture),
            ["new_price"] = message.NewPrice.ToString("F2", CultureInfo.InvariantCulture),
            ["change_percent"] = change.ToString("0.#", CultureInfo.InvariantCulture),
            ["effective_from"] = message.EffectiveFrom.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["reason"] = message.Reason,
            ["triggered_by"] = message.TriggeredBy,
        };
        return new NotificationEvent($"tariff:{message.TariffId}", template, message.Region, null, null, values, json);
    }

    private async Task<RecordHandled> NotifyAsync(NotificationEvent e)
    {
        var recipients = await RecipientsAsync(e);
        var (subject, text, html) = _templates.Render(e.Template, e.Values);
        var data = new Dictionary<string, object?>(e.Values) { ["event_payload"] = JsonDocument.Parse(e.RawJson).RootElement.Clone() };
        // One instant for the whole event: its recipients are judged against the same clock.
        var now = _time.GetUtcNow();

        var deliveries = new List<(long Id, INotificationChannel Channel, Notification Notification)>();
        var (already, suppressed, limited, digested) = (0, 0, 0, 0);
        var critical = string.Equals(e.Severity, "critical", StringComparison.OrdinalIgnoreCase);
        // A page of an escalation is never held for a digest: it exists because nobody answered.
        var digestible = e.AlertId is not null && e.Kind != Kinds.Escalated && DigestHolds(e.Severity, e.MeterId) && _channels.Any(c => c.Name == EmailChannelName);
        await using (var log = await _log.OpenAsync())
        {
            foreach (var recipient in recipients)
            {
                var channels = _channels.Where(c => recipient.Channels.Contains(c.Name) && (!e.MachinesOnly || c.Name == WebhookChannelName)).ToList();
                if (digestible && !string.IsNullOrWhiteSpace(recipient.Email) && channels.Any(c => c.Name != WebhookChannelName))
                {
                    // One digest line instead of a message on each personal channel; webhooks (machines) still get theirs at once.
                    var queued = await log.InsertAsync(Row(e, $"{e.Key}:{recipient.UserId}:digest", recipient.UserId, EmailChannelName,
                        recipient.Email, subject, now, NotificationLog.QueuedDigest));
                    if (queued.Inserted) digested++;
                    else already++;
                    channels = channels.Where(c => c.Name == WebhookChannelName).ToList();
                }

                foreach (var channel in channels)
                {
                    if (channel.DestinationOf(recipient) is not { } destination) continue;
                    var key = $"{e.Key}:{recipient.UserId}:{channel.Name}";
                    var (id, status, _) = await log.InsertAsync(Row(e, key, recipient.UserId, channel.Name, destination, subject, now, NotificationLog.Pending));

                    // pending: new, or left by an owner that stopped before recording the outcome.
                    if (status != NotificationLog.Pending)
                        already++;
                    else if (QuietHours.HoldsBack(recipient.QuietHours, channel.Name, e.Severity, now))
                    {
                        // Final like sent or failed: a redelivered event does not wake the user later either.
                        await log.HoldBackAsync(id, NotificationLog.SuppressedQuietHours);
                        ServicesMetrics.Notifications.Add(1, new("channel", channel.Name), new("status", NotificationLog.SuppressedQuietHours));
                        suppressed++;
                    }
                    else if (!critical && _rateLimit is not null && !await _rateLimit.TryTakeAsync(recipient.UserId, channel.Name, key, now))
                    {
                        // Final too: sending it once the window has room would flood the user all the same, only later.
                        await log.HoldBackAsync(id, NotificationLog.RateLimited, $"over {_rateLimit.MaxPerHour} per hour on {channel.Name}");
                        ServicesMetrics.Notifications.Add(1, new("channel", channel.Name), new("status", NotificationLog.RateLimited));
                        limited++;
                    }
                    else
                        deliveries.Add((id, channel, new Notification(key, e.Template, destination, subject, text, html, data,
                            channel.SecretOf(recipient))));
                }
            }
        }

        if (deliveries.Count == 0 && suppressed == 0 && limited == 0 && digested == 0)
            return already > 0 ? RecordHandled.Duplicate : new RecordHandled("no-recipients");

        var (sent, failed) = await DeliverAllAsync(deliveries);
        var outcome = $"sent:{sent},failed:{failed}";
        if (suppressed > 0) outcome += $",suppressed:{suppressed}";
        if (limited > 0) outcome += $",rate_limited:{limited}";
        if (digested > 0) outcome += $",digest:{digested}";
        return new RecordHandled(outcome);
    }

    /// <summary>The row of one delivery of <paramref name="e"/>, created with <paramref name="status"/> unless its idempotency key has one already.</summary>
    private static DeliveryRow Row(NotificationEvent e, string key, Guid user, string channel, string destination, string summary,
        DateTimeOffset now, string status) =>
        new(key, e.Key, user, channel, e.Template, destination, e.AlertId, e.Kind, summary, status, now);

    /// <summary>Bounded: the defaults make every user of a region a recipient of its tariff changes, and each delivery holds a database connection while it records its outcome.</summary>
    private async Task<(int Sent, int Failed)> DeliverAllAsync(IReadOnlyList<(long Id, INotificationChannel Channel, Notification Notification)> deliveries)
    {
        var (sent, failed) = (0, 0);
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _settings.MaxConcurrentDeliveries) },
            async (d, _) =>
            {
                if (await DeliverAsync(d.Id, d.Channel, d.Notification)) Interlocked.Increment(ref sent);
                else Interlocked.Increment(ref failed);
            });
        return (sent, failed);
    }

    private bool DigestHolds(string? severity, string? meterId) =>
        !string.IsNullOrEmpty(_settings.DigestBelow) && severity is not null
        && SeverityExtensions.RankOf(severity) < Math.Max(SeverityExtensions.RankOf(_settings.DigestBelow),
            meterId is null ? 0 : SeverityExtensions.RankOf(_settings.MeterDigestBelow));

    /// <summary>Up to MaxAttempts tries, each recorded; true when sent.</summary>
    private async Task<bool> DeliverAsync(long logId, INotificationChannel channel, Notification notification)
    {
        var attempts = Math.Max(1, _settings.MaxAttempts);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await channel.SendAsync(notification, CancellationToken.None);
                await _log.SentAsync(logId, attempt, _time.GetUtcNow());
                ServicesMetrics.Notifications.Add(1, new("channel", channel.Name), new("status", "sent"));
                return true;
            }
            catch (Exception error)
            {
                var last = attempt >= attempts;
                Log.Warning("notification-manager: {0} to {1} failed (attempt {2}/{3}): {4}", channel.Name, notification.Destination, attempt,
                    attempts, error.Message);
                await _log.AttemptFailedAsync(logId, attempt, last, $"{error.GetType().Name}: {error.Message}");
                if (last)
                {
                    ServicesMetrics.Notifications.Add(1, new("channel", channel.Name), new("status", "failed"));
                    return false;
                }
                var delay = _settings.RetryBaseDelay * Math.Pow(2, attempt - 1);
                await Task.Delay(delay + delay * (Random.Shared.NextDouble() * 0.25));
            }
        }
    }

    private async Task<List<NotificationRecipient>> RecipientsAsync(NotificationEvent e)
    {
        var alert = e.Severity is not null;
        var rows = await _log.RecipientsAsync(new RecipientQuery(e.Region, e.MeterId, alert, e.RegionRecipients, e.TargetUsers, e.TargetRoles),
            NotificationDefaults.Channels.ToArray(), NotificationDefaults.MinSeverity);
        var recipients = new List<NotificationRecipient>();
        foreach (var row in rows)
        {
            IReadOnlyList<string> channels = row.Channels;
            if (alert)
            {
                if (AlertChannelRule.ChannelsFor(AlertChannelRule.Parse(row.AlertRulesJson), e.AlertType?.ToWireName() ?? "", e.Severity!) is { } chosen)
                    channels = chosen;
                else if (!row.Targeted && SeverityExtensions.RankOf(e.Severity) < SeverityExtensions.RankOf(row.MinSeverity))
                    continue;
            }
            recipients.Add(new NotificationRecipient(row.UserId, row.Role, row.Email, row.Phone, row.WebhookUrl, channels, row.PushToken,
                QuietHours.From(row.QuietHoursStart, row.QuietHoursEnd), row.WebhookSecret));
        }

        return recipients;
    }

    /// <summary>
    /// What to tell whom. <see cref="RegionRecipients"/>: the region's operators and admins and the meter's owner (by their
    /// preferences); <see cref="TargetUsers"/> and <see cref="TargetRoles"/>: an escalation tier's people, told whatever their min_severity.
    /// </summary>
    private sealed record NotificationEvent(string Key, string Template, string Region, string? Severity, string? MeterId,
        IReadOnlyDictionary<string, object?> Values, string RawJson)
    {
        public Guid? AlertId { get; init; }
        public AlertType? AlertType { get; init; }
        /// <summary>notification_log.kind: notified, reminded or escalated.</summary>
        public string Kind { get; init; } = Kinds.Notified;
        public bool RegionRecipients { get; init; } = true;
        /// <summary>Webhooks only (machines keep the full lifecycle); no email, SMS or push to a person.</summary>
        public bool MachinesOnly { get; init; }
        public Guid[] TargetUsers { get; init; } = [];
        public string[] TargetRoles { get; init; } = [];
    }

    /// <summary>notification_log.kind values.</summary>
    private static class Kinds
    {
        public const string Notified = "notified";
        public const string Reminded = "reminded";
        public const string Escalated = "escalated";
    }
}
