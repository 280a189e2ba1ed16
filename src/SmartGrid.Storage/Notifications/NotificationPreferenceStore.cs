using Npgsql;
using NpgsqlTypes;
using SmartGrid.Contracts.Notifications;

namespace SmartGrid.Storage.Notifications;

/// <summary>
/// A user's notification settings (notification_preferences). email and phone are confirmed
/// addresses that override the account's for notifications only (null email: the account's
/// verified one; null phone: none); a new address waits in PendingEmail / PendingPhone until its
/// owner sends back the code it got.
/// </summary>
public sealed record NotificationPreferences(
    string[] Channels, string MinSeverity, string? WebhookUrl, string? Email, string? Phone, string? PushToken,
    TimeOnly? QuietHoursStart, TimeOnly? QuietHoursEnd, DateTimeOffset? UpdatedAt, bool HasWebhookSecret = false,
    string? PendingEmail = null, string? PendingPhone = null, IReadOnlyList<AlertChannelRule>? AlertRules = null)
{
    /// <summary>Channels by alert type and severity, first match first (see <see cref="AlertChannelRule"/>).</summary>
    public IReadOnlyList<AlertChannelRule> Rules => AlertRules ?? [];

    /// <summary>What a user who never saved any is notified with (the NotificationManager uses the same <see cref="NotificationDefaults"/>).</summary>
    public static NotificationPreferences Defaults { get; } =
        new([.. NotificationDefaults.Channels], NotificationDefaults.MinSeverity, null, null, null, null, null, null, null);
}

/// <summary>notification_preferences as the gateway reads and saves them; <paramref name="newWebhookSecret"/> makes a webhook's signing secret.</summary>
public sealed class NotificationPreferenceStore(NpgsqlDataSource db, Func<string> newWebhookSecret)
{
    /// <summary>The saved preferences, or null when the user has none yet.</summary>
    public async Task<NotificationPreferences?> GetAsync(Guid userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            """
            SELECT channels, min_severity, webhook_url, email, phone, push_token, quiet_hours_start, quiet_hours_end, updated_at,
                   webhook_secret IS NOT NULL, pending_email, pending_phone, alert_rules::text
            FROM notification_preferences WHERE user_id = $1
            """, userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct))
            return null;
        return new NotificationPreferences(
            r.GetFieldValue<string[]>(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
            r.IsDBNull(6) ? null : r.GetFieldValue<TimeOnly>(6), r.IsDBNull(7) ? null : r.GetFieldValue<TimeOnly>(7),
            r.GetFieldValue<DateTimeOffset>(8), r.GetBoolean(9), r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetString(11),
            AlertChannelRule.Parse(r.GetString(12)));
    }

    /// <summary>
    /// Replaces the user's preferences (creating them on first save). A webhook URL saved where none had a secret gets a
    /// new one, returned here only (shown once); removing the URL removes its secret.
    /// </summary>
    public async Task<string?> SaveAsync(Guid userId, NotificationPreferences p, CancellationToken ct)
    {
        var candidate = p.WebhookUrl is null ? null : newWebhookSecret();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            """
            INSERT INTO notification_preferences
                (user_id, channels, min_severity, webhook_url, email, phone, push_token, quiet_hours_start, quiet_hours_end, updated_at,
                 webhook_secret, pending_email, pending_phone, alert_rules)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10, $11, $12, $13::jsonb)
            ON CONFLICT (user_id) DO UPDATE SET
                channels = EXCLUDED.channels, min_severity = EXCLUDED.min_severity, webhook_url = EXCLUDED.webhook_url,
                email = EXCLUDED.email, phone = EXCLUDED.phone, push_token = EXCLUDED.push_token,
                quiet_hours_start = EXCLUDED.quiet_hours_start, quiet_hours_end = EXCLUDED.quiet_hours_end, updated_at = now(),
                pending_email = EXCLUDED.pending_email, pending_phone = EXCLUDED.pending_phone, alert_rules = EXCLUDED.alert_rules,
                webhook_secret = CASE WHEN EXCLUDED.webhook_url IS NULL THEN NULL
                                      ELSE COALESCE(notification_preferences.webhook_secret, EXCLUDED.webhook_secret) END
            RETURNING webhook_secret
            """,
            userId, p.Channels, p.MinSeverity, Db.Text(p.WebhookUrl), Db.Text(p.Email), Db.Text(p.Phone), Db.Text(p.PushToken),
            Db.Typed(p.QuietHoursStart, NpgsqlDbType.Time), Db.Typed(p.QuietHoursEnd, NpgsqlDbType.Time), Db.Text(candidate),
            Db.Text(p.PendingEmail), Db.Text(p.PendingPhone), AlertChannelRule.Serialize(p.Rules));
        var stored = await cmd.ExecuteScalarAsync(ct) as string;
        return stored is not null && stored == candidate ? stored : null;
    }

    /// <summary>A new webhook secret replacing the old one at once, or null when the user has no webhook URL.</summary>
    public async Task<string?> RotateWebhookSecretAsync(Guid userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            "UPDATE notification_preferences SET webhook_secret = $2, updated_at = now() WHERE user_id = $1 AND webhook_url IS NOT NULL RETURNING webhook_secret",
            userId, newWebhookSecret());
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
