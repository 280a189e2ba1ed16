using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Services.Notifications;

/// <summary>Settings of the NotificationManager; its channels' are those of <see cref="ChannelSettings"/>.</summary>
public sealed record NotificationSettings : ChannelSettings
{
    public const string GroupId = "notification-service-group";

    /// <summary>Attempts per delivery (first try included); waits BaseDelay·2^(n-1) plus up to 25 % jitter between them.</summary>
    public int MaxAttempts { get; init; } = 3;
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries of one event in flight at once (each holds a database connection while it records its outcome).</summary>
    public int MaxConcurrentDeliveries { get; init; } = 16;

    /// <summary>
    /// Notifications per recipient and channel in any hour (sliding, counted in Redis); further ones
    /// are logged rate_limited and never sent. Critical alerts are exempt. 0 turns the limit off.
    /// </summary>
    public int MaxPerRecipientPerHour { get; init; } = 20;

    /// <summary>Replacement Liquid sources by template name (alert_created, tariff_increased…); see <see cref="NotificationTemplates"/>.</summary>
    public Dictionary<string, NotificationTemplateSource> Templates { get; init; } = [];

    /// <summary>Nothing periodic yet; the base class wants an interval.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Alerts below this severity reach a person (every channel but webhooks, which machines read) in one periodic digest
    /// email instead of one message each; at or above it they go at once. null or "" turns digests off.
    /// </summary>
    public string? DigestBelow { get; init; } = "high";

    /// <summary>How long a recipient's oldest waiting notification waits for its digest.</summary>
    public TimeSpan DigestInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often an unacknowledged alert re-notifies everyone told so far, by severity (wire name); a severity left out
    /// gets no reminders.
    /// </summary>
    public Dictionary<string, TimeSpan> ReminderIntervals { get; init; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["critical"] = TimeSpan.FromMinutes(10),
        ["high"] = TimeSpan.FromMinutes(30),
        ["medium"] = TimeSpan.FromHours(2),
    };

    /// <summary>Reminders at most per alert and severity level, so a forgotten alert does not remind forever.</summary>
    public int MaxReminders { get; init; } = 6;

    /// <summary>How often the timer looks for due reminders, escalations and digests (over alert_escalations and notification_log).</summary>
    public TimeSpan EscalationCheckInterval { get; init; } = TimeSpan.FromSeconds(15);

    public ConsumerOptions Consumer { get; init; } = new()
    {
        GroupId = GroupId,
        Topics = [Topics.Alerts, Topics.TariffUpdates],
    };

    public string AlertsTopic => Consumer.Topics[0];
    public string TariffUpdatesTopic => Consumer.Topics[1];
}
