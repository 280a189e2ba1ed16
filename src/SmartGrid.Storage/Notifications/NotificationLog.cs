using Npgsql;

namespace SmartGrid.Storage.Notifications;

/// <summary>A notification_log row to create unless its idempotency key (event + user + channel) has one already.</summary>
public sealed record DeliveryRow(string IdempotencyKey, string EventKey, Guid UserId, string Channel, string Template, string Destination,
    Guid? AlertId, string Kind, string Summary, string Status, DateTimeOffset CreatedAt);

/// <summary>The row of a delivery: the one just created (<see cref="Inserted"/>) or the one its idempotency key already had.</summary>
public readonly record struct LoggedDelivery(long Id, string Status, bool Inserted);

/// <summary>
/// Who an event may be for. An alert (<see cref="IsAlert"/>) is for the region's operators and admins and the owner of its meter when
/// <see cref="RegionRecipients"/>, and for the people an escalation tier names (<see cref="TargetUsers"/>, or
/// <see cref="TargetRoles"/> operating the region); anything else (a tariff change) for the users with a meter in the region.
/// </summary>
public sealed record RecipientQuery(string Region, string? MeterId, bool IsAlert, bool RegionRecipients, Guid[] TargetUsers, string[] TargetRoles);

/// <summary>
/// A possible recipient as users and notification_preferences hold them (the given defaults where the user saved no preferences),
/// with confirmed addresses only. <see cref="Targeted"/>: paged by an escalation tier, which their min_severity does not hold back.
/// </summary>
public sealed record RecipientRow(Guid UserId, string Role, string? Email, string? Phone, string? WebhookUrl, string[] Channels, string MinSeverity,
    string? PushToken, TimeOnly? QuietHoursStart, TimeOnly? QuietHoursEnd, string? WebhookSecret, string AlertRulesJson, bool Targeted);

/// <summary>A digest claimed and not yet sent: its row, and the summaries of the notifications it carries, oldest first.</summary>
public sealed record PendingDigest(long Id, string IdempotencyKey, string Destination, DateTimeOffset Since, IReadOnlyList<string> Items);

/// <summary>
/// notification_log, the NotificationManager's record of every (event, recipient, channel): the row is created before a
/// delivery is tried and settled after, so a redelivered event finds it and sends nothing again; and the recipients of an
/// event, read from users and notification_preferences.
/// </summary>
public sealed class NotificationLog(NpgsqlDataSource db)
{
    /// <summary>notification_log.status of a delivery to try (new, or left by an owner that stopped before recording its outcome).</summary>
    public const string Pending = "pending";

    /// <summary>notification_log.status of a delivery held back by the recipient's quiet hours (never sent later).</summary>
    public const string SuppressedQuietHours = "suppressed_quiet_hours";

    /// <summary>notification_log.status of a delivery over the recipient's per-channel rate limit (never sent later).</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>notification_log.status of a notification waiting for its recipient's digest email.</summary>
    public const string QueuedDigest = "queued_digest";

    /// <summary>notification_log.status of a notification that went out in a digest (its digest_id is the digest's row).</summary>
    public const string Digested = "digested";

    /// <summary>A connection for one event's rows, created one after another.</summary>
    public async Task<NotificationLogSession> OpenAsync() => new(await db.OpenConnectionAsync());

    /// <summary>The attempt that sent the delivery.</summary>
    public Task SentAsync(long id, int attempts, DateTimeOffset at) =>
        ExecuteAsync("UPDATE notification_log SET status = 'sent', attempts = $2, sent_at = $3, updated_at = now() WHERE id = $1", id, attempts, at);

    /// <summary>A failed attempt: the delivery stays pending for the next, or fails with the last.</summary>
    public Task AttemptFailedAsync(long id, int attempt, bool last, string error) =>
        ExecuteAsync("UPDATE notification_log SET status = $2, attempts = $3, last_error = $4, updated_at = now() WHERE id = $1",
            id, last ? "failed" : Pending, attempt, error);

    /// <summary>The event's recipients, by user id.</summary>
    public async Task<IReadOnlyList<RecipientRow>> RecipientsAsync(RecipientQuery query, string[] defaultChannels, string defaultMinSeverity)
    {
        // LEFT JOIN: a user who never saved preferences is notified with the defaults the gateway shows them.
        // Only confirmed addresses: the verified account email, the preferences' confirmed email and
        // phone (never the phone typed at registration, nor a pending address).
        const string columns = """
            SELECT u.id, u.role, COALESCE(p.email, u.email), p.phone, p.webhook_url,
                   COALESCE(p.channels, $1::text[]), COALESCE(p.min_severity, $2::text), to_jsonb(p) ->> 'push_token',
                   p.quiet_hours_start, p.quiet_hours_end, p.webhook_secret, COALESCE(p.alert_rules, '[]'::jsonb)::text,
                   (u.id = ANY ($6::uuid[]) OR (u.role = ANY ($7::text[]) AND (u.role = 'ADMIN' OR $3 = ANY (u.operator_regions))))
            FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
            """;
        var sql = query.IsAlert
            ? columns + """

              WHERE ($5 AND ((u.role IN ('OPERATOR', 'ADMIN') AND $3 = ANY (u.operator_regions))
                             OR (u.role = 'USER' AND $4::text IS NOT NULL
                                 AND EXISTS (SELECT 1 FROM meters m WHERE m.meter_id = $4::text AND m.user_id = u.id::text))))
                 OR u.id = ANY ($6::uuid[]) OR (u.role = ANY ($7::text[]) AND (u.role = 'ADMIN' OR $3 = ANY (u.operator_regions)))
              ORDER BY u.id
              """
            : columns + """

              WHERE u.role = 'USER' AND EXISTS (SELECT 1 FROM meters m WHERE m.region = $3 AND m.user_id = u.id::text)
                AND $4::text IS NULL AND NOT $5 AND cardinality($6::uuid[]) = 0 AND cardinality($7::text[]) = 0
              ORDER BY u.id
              """;
        var recipients = new List<RecipientRow>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, sql, defaultChannels, defaultMinSeverity, query.Region, query.MeterId,
            query.IsAlert && query.RegionRecipients, query.TargetUsers, query.TargetRoles);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            recipients.Add(new RecipientRow(reader.GetGuid(0), reader.GetString(1), Text(2), Text(3), Text(4), reader.GetFieldValue<string[]>(5),
                reader.GetString(6), Text(7), Time(8), Time(9), Text(10), reader.GetString(11), reader.GetBoolean(12)));
        return recipients;

        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        TimeOnly? Time(int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<TimeOnly>(i);
    }

    /// <summary>
    /// Claims one digest row per recipient whose oldest queued notification was created at or before <paramref name="dueBefore"/>, and
    /// moves their queued notifications into it, each recipient in one transaction (a digest claimed twice is not: its key is its first item).
    /// </summary>
    public async Task ClaimDigestsAsync(DateTimeOffset dueBefore, string channel, string template, DateTimeOffset now)
    {
        await using var connection = await db.OpenConnectionAsync();
        var due = new List<(Guid User, long FirstItem, string Destination)>();
        await using (var command = Db.Command(connection, null, """
            SELECT user_id, min(id), (array_agg(destination ORDER BY id DESC))[1] FROM notification_log
            WHERE status = 'queued_digest' GROUP BY user_id HAVING min(created_at) <= $1
            """, dueBefore))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                due.Add((reader.GetGuid(0), reader.GetInt64(1), reader.GetString(2)));
        }

        foreach (var (user, firstItem, destination) in due)
        {
            var key = $"digest:{user}:{firstItem}";
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var insert = Db.Command(connection, transaction, """
                INSERT INTO notification_log (idempotency_key, event_key, user_id, channel, template, destination, kind, created_at, updated_at)
                VALUES ($1, $1, $2, $3, $4, $5, 'digest', $6, $6)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
                """, key, user, channel, template, destination, now))
            {
                if (await insert.ExecuteScalarAsync() is long digestId)
                {
                    await Db.ExecuteAsync(connection, transaction,
                        "UPDATE notification_log SET status = $3, digest_id = $2, updated_at = $4 WHERE user_id = $1 AND status = 'queued_digest'",
                        user, digestId, Digested, now);
                }
            }
            await transaction.CommitAsync();
        }
    }

    /// <summary>Digests claimed and not yet sent, oldest first.</summary>
    public async Task<IReadOnlyList<PendingDigest>> PendingDigestsAsync()
    {
        var pending = new List<PendingDigest>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, """
            SELECT d.id, d.idempotency_key, d.destination, min(i.created_at),
                   array_agg(i.summary || ' (' || to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC)' ORDER BY i.id)
            FROM notification_log d JOIN notification_log i ON i.digest_id = d.id
            WHERE d.kind = 'digest' AND d.status = 'pending'
            GROUP BY d.id, d.idempotency_key, d.destination ORDER BY d.id
            """);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            pending.Add(new PendingDigest(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetFieldValue<string[]>(4)));
        return pending;
    }

    private async Task ExecuteAsync(string sql, params object?[] values)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Db.ExecuteAsync(connection, null, sql, values);
    }
}

/// <summary>One event's notification_log rows, on one connection.</summary>
public sealed class NotificationLogSession(NpgsqlConnection connection) : IAsyncDisposable
{
    /// <summary>The row of one delivery, created unless its idempotency key has one already (then that row, untouched).</summary>
    public async Task<LoggedDelivery> InsertAsync(DeliveryRow row)
    {
        await using var command = Db.Command(connection, null, """
            INSERT INTO notification_log (idempotency_key, event_key, user_id, channel, template, destination, alert_id, kind, summary, status,
                                          created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
            ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
            RETURNING id, status, xmax = 0
            """, row.IdempotencyKey, row.EventKey, row.UserId, row.Channel, row.Template, row.Destination, row.AlertId, row.Kind, row.Summary,
            row.Status, row.CreatedAt);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new LoggedDelivery(reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2));
    }

    /// <summary>
    /// A pending delivery that will not be tried: final like sent or failed (quiet hours, the rate limit), with
    /// <paramref name="reason"/> as its last error when given.
    /// </summary>
    public Task HoldBackAsync(long id, string status, string? reason = null) =>
        Db.ExecuteAsync(connection, null,
            "UPDATE notification_log SET status = $2, last_error = COALESCE($3, last_error), updated_at = now() WHERE id = $1 AND status = 'pending'",
            id, status, reason);

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
