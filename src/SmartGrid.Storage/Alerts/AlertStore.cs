using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;

namespace SmartGrid.Storage.Alerts;

/// <summary>Filters of an alert list; null means any.</summary>
public sealed record AlertFilter(IReadOnlyList<string>? Regions, string? Severity, AlertType? Type, IReadOnlyList<AlertStatus> Statuses,
    IReadOnlyList<string>? MeterIds = null);

/// <summary>
/// One entry of an alert's timeline: a lifecycle event (created, acknowledged, resolved, noted: alert_acknowledgments, with its
/// <see cref="EventId"/>), an escalation change (escalated, de-escalated) or a notification (notified, reminded: with
/// <see cref="Channel"/> and <see cref="Recipient"/>; the note says when it was not simply sent). ActorName and Recipient are
/// the user's email (users have no other name), or the actor itself for "system" and actors that are not users.
/// </summary>
public sealed record AlertEvent(long? EventId, string Action, string Actor, string ActorName, DateTimeOffset At, string? Note,
    string? Channel = null, string? Recipient = null);

/// <summary>An alert to open, or to count again on the open alert of its (type, region, meter); attached to an incident when one is given.</summary>
public sealed record AlertOccurrence(AlertType Type, Severity Severity, string Region, string? MeterId, string Message,
    IReadOnlyDictionary<string, object?> Metadata, DateTimeOffset SeenAt, Guid? IncidentId = null, string? NodeId = null);

/// <summary>
/// The alert tables (alerts, alert_acknowledgments, alert_source_events, alert_region_state) in one place: the
/// AlertManager writes them through <see cref="BeginAsync"/>, the gateway reads them. Every change of an alert
/// goes through the AlertManager singleton (it writes the audit row, the outbox of the alerts topic, with it).
/// </summary>
public sealed partial class AlertStore(NpgsqlDataSource db)
{
    /// <summary>alert_acknowledgments as the outbox of the alerts topic, keyed by alert so an alert's events stay in order.</summary>
    public static Outbox<AlertEventMessage, long> EventsOutbox { get; } = new(
        "SELECT event_id, action, actor, at, alert::text, note FROM alert_acknowledgments WHERE published_at IS NULL ORDER BY event_id",
        r => new AlertEventMessage(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3),
            WireJson.Deserialize<AlertView>(r.GetString(4)), r.IsDBNull(5) ? null : r.GetString(5)),
        e => e.Alert.AlertId.ToString(), e => e.EventId,
        "UPDATE alert_acknowledgments SET published_at = now() WHERE event_id = ANY($1)");

    /// <summary>Most severe first, then most recently seen.</summary>
    public async Task<(IReadOnlyList<AlertView> Items, long Total)> ListAsync(AlertFilter filter, int limit, int offset, CancellationToken ct)
    {
        await using var cmd = Db.Command(db,
            $"""
            SELECT {AlertRows.Columns}, count(*) OVER () FROM alerts
            WHERE ($1::text[] IS NULL OR region = ANY ($1))
              AND ($2::text IS NULL OR severity = $2)
              AND ($3::text IS NULL OR type = $3)
              AND status = ANY ($4)
              AND ($5::text[] IS NULL OR meter_id = ANY ($5))
            ORDER BY array_position(ARRAY['critical','high','medium','low'], severity), last_seen_at DESC, alert_id
            LIMIT $6 OFFSET $7
            """,
            Db.Array(filter.Regions?.ToArray(), NpgsqlDbType.Text), Db.Text(filter.Severity), Db.Text(filter.Type?.ToWireName()),
            Db.Array(filter.Statuses.Select(s => s.ToWireName()).ToArray(), NpgsqlDbType.Text), Db.Array(filter.MeterIds?.ToArray(), NpgsqlDbType.Text));
        return await cmd.ReadPageAsync(limit, offset, AlertRows.Read, ct);
    }

    public async Task<AlertView?> FindAsync(Guid alertId, CancellationToken ct)
    {
        await using var cmd = Db.Command(db, $"SELECT {AlertRows.Columns} FROM alerts WHERE alert_id = $1", alertId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? AlertRows.Read(reader) : null;
    }

    /// <summary>
    /// The alert's timeline, oldest first. Notifications are read from notification_log rather than written as lifecycle
    /// events: one read path, and the alerts topic (whose consumer is the NotificationManager) never carries the
    /// NotificationManager's own doings, so it cannot notify about its notifications.
    /// </summary>
    public async Task<IReadOnlyList<AlertEvent>> EventsAsync(Guid alertId, CancellationToken ct)
    {
        // Actors are user ids as text, or "system": compared as text, so no actor has to parse as a uuid.
        await using var cmd = Db.Command(db,
            """
            SELECT event_id, action, actor, actor_name, at, note, channel, recipient FROM (
                SELECT a.event_id, a.action, a.actor, coalesce(u.email, a.actor) AS actor_name, a.at, a.note,
                       NULL::text AS channel, NULL::text AS recipient, 0 AS source, a.event_id AS ord
                FROM alert_acknowledgments a LEFT JOIN users u ON u.id::text = a.actor WHERE a.alert_id = $1
                UNION ALL
                SELECT NULL, e.action, 'system', 'system', e.at, e.note, NULL, NULL, 1, e.id
                FROM alert_escalation_events e WHERE e.alert_id = $1
                UNION ALL
                SELECT NULL, CASE n.kind WHEN 'reminded' THEN 'reminded' ELSE 'notified' END, 'system', 'system',
                       coalesce(n.sent_at, n.created_at),
                       nullif(concat_ws('; ',
                           CASE n.kind WHEN 'escalated' THEN 'escalation page' END,
                           CASE n.status
                               WHEN 'pending' THEN 'sending'
                               WHEN 'failed' THEN 'failed: ' || coalesce(n.last_error, 'unknown error')
                               WHEN 'rate_limited' THEN 'not sent: over the hourly limit'
                               WHEN 'suppressed_quiet_hours' THEN 'held back: quiet hours'
                               WHEN 'queued_digest' THEN 'waiting for the digest email'
                               WHEN 'digested' THEN 'sent in the digest email'
                           END), ''),
                       n.channel, u.email, 2, n.id
                FROM notification_log n JOIN users u ON u.id = n.user_id WHERE n.alert_id = $1
            ) timeline ORDER BY at, source, ord
            """,
            alertId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var events = new List<AlertEvent>();
        while (await reader.ReadAsync(ct))
        {
            events.Add(new AlertEvent(reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return events;
    }

    /// <summary>Open (active or acknowledged) alerts per region and severity.</summary>
    public async Task<IReadOnlyDictionary<string, Dictionary<string, long>>> OpenCountsAsync(IReadOnlyList<string> regions, CancellationToken ct)
    {
        await using var cmd = Db.Command(db,
            "SELECT region, severity, count(*) FROM alerts WHERE region = ANY ($1) AND status <> 'resolved' GROUP BY region, severity",
            Db.Array(regions.ToArray(), NpgsqlDbType.Text));
        var counts = regions.ToDictionary(r => r, _ => new Dictionary<string, long>(), StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            counts[reader.GetString(0)][reader.GetString(1)] = reader.GetInt64(2);
        return counts;
    }

    /// <summary>Open alerts of one region, all types.</summary>
    public async Task<long> OpenCountAsync(string region)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, "SELECT count(*) FROM alerts WHERE region = $1 AND status <> 'resolved'", region);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Forgets the applied source events (anomalies, outage episodes) processed before <paramref name="before"/>.</summary>
    public async Task PruneSourceEventsAsync(DateTimeOffset before)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Db.ExecuteAsync(connection, null, "DELETE FROM alert_source_events WHERE processed_at < $1", before);
    }

    /// <summary>A transaction over the alert tables; nothing is stored unless it is committed.</summary>
    public Task<AlertTransaction> BeginAsync() => StoreTransaction.BeginAsync(db, (connection, tx) => new AlertTransaction(connection, tx));
}

/// <summary>The AlertManager's writes, all in one transaction with the audit rows they cause.</summary>
public sealed class AlertTransaction(NpgsqlConnection connection, NpgsqlTransaction tx) : StoreTransaction(connection, tx)
{
    /// <summary>Records that a source event was applied; false when it was already (a redelivery: change nothing).</summary>
    public async Task<bool> RememberSourceAsync(string sourceKey) =>
        await ExecuteAsync("INSERT INTO alert_source_events (source_key) VALUES ($1) ON CONFLICT DO NOTHING", sourceKey) > 0;

    /// <summary>
    /// The region's overload bookkeeping, locked for this transaction (created empty when missing), so two
    /// owners of the manager during a handover cannot both apply a window.
    /// </summary>
    public async Task<RegionAlertState> LockRegionAsync(string region)
    {
        await ExecuteAsync("INSERT INTO alert_region_state (region, state) VALUES ($1, '{}'::jsonb) ON CONFLICT DO NOTHING", region);
        await using var command = Command("SELECT state::text FROM alert_region_state WHERE region = $1 FOR UPDATE", region);
        return WireJson.Deserialize<RegionAlertState>((string)(await command.ExecuteScalarAsync())!);
    }

    public Task SaveRegionAsync(string region, RegionAlertState state) =>
        ExecuteAsync("UPDATE alert_region_state SET state = $2::jsonb, updated_at = now() WHERE region = $1",
            region, WireJson.Serialize(state));

    /// <summary>
    /// Opens the alert of (type, region, meter), or counts a repeat on the open one: at most one open alert per
    /// (type, region, meter), enforced by a partial unique index; a repeat raises the count and the last-seen time, and
    /// the severity is the newest occurrence's, up or down: an overload back under the critical load is high again, which
    /// de-escalates the alert (the NotificationManager's escalation notes it in the timeline). A repeat older than the
    /// last seen one (late on the topic) leaves the severity. Inserted is true when it was opened.
    /// </summary>
    public async Task<(AlertView Alert, bool Inserted)> UpsertOpenAsync(AlertOccurrence occurrence)
    {
        await using var command = Command($"""
            INSERT INTO alerts (alert_id, type, severity, region, meter_id, message, metadata, status, first_seen_at, last_seen_at, incident_id, node_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'active', $8, $8, $9, $10)
            ON CONFLICT (type, region, (COALESCE(meter_id, '')), (COALESCE(node_id, ''))) WHERE status <> 'resolved' DO UPDATE SET
                occurrence_count = alerts.occurrence_count + 1,
                last_seen_at = GREATEST(alerts.last_seen_at, EXCLUDED.last_seen_at),
                severity = CASE WHEN EXCLUDED.last_seen_at >= alerts.last_seen_at THEN EXCLUDED.severity ELSE alerts.severity END,
                message = EXCLUDED.message,
                metadata = EXCLUDED.metadata,
                incident_id = COALESCE(alerts.incident_id, EXCLUDED.incident_id),
                updated_at = now()
            RETURNING {AlertRows.Columns}, (xmax = 0) AS inserted
            """, Guid.NewGuid(), occurrence.Type.ToWireName(), occurrence.Severity.ToWireName(), occurrence.Region, occurrence.MeterId, occurrence.Message,
            JsonSerializer.Serialize(occurrence.Metadata, WireJson.Options), occurrence.SeenAt,
            occurrence.IncidentId, occurrence.NodeId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (AlertRows.Read(reader), reader.GetBoolean(AlertRows.Count));
    }

    /// <summary>The alert as it stands, without a lock; null when there is none.</summary>
    public Task<AlertView?> FindAsync(Guid alertId) =>
        SingleAsync($"SELECT {AlertRows.Columns} FROM alerts WHERE alert_id = $1", alertId);

    /// <summary>The alert, locked for this transaction; null when there is none.</summary>
    public Task<AlertView?> LockAsync(Guid alertId) =>
        SingleAsync($"SELECT {AlertRows.Columns} FROM alerts WHERE alert_id = $1 FOR UPDATE", alertId);

    public Task<AlertView?> AcknowledgeAsync(Guid alertId, string by, DateTimeOffset at) =>
        SingleAsync($"""
            UPDATE alerts SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, updated_at = now()
            WHERE alert_id = $1 RETURNING {AlertRows.Columns}
            """, alertId, at, by);

    /// <summary>Resolves the alert unless it is resolved already (then null).</summary>
    public Task<AlertView?> ResolveAsync(Guid alertId, string by, DateTimeOffset at) =>
        SingleAsync($"""
            UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = $3, updated_at = now()
            WHERE alert_id = $1 AND status <> 'resolved' RETURNING {AlertRows.Columns}
            """, alertId, at, by);

    /// <summary>The region's open INCIDENT, if it has one: per-meter alerts raised now attach to it.</summary>
    public async Task<Guid?> OpenIncidentAsync(string region)
    {
        await using var command = Command(
            "SELECT alert_id FROM alerts WHERE type = 'INCIDENT' AND region = $1 AND meter_id IS NULL AND status <> 'resolved'", region);
        return await command.ExecuteScalarAsync() is Guid id ? id : null;
    }

    /// <summary>
    /// Attaches the open OUTAGE and drop ANOMALY alerts of these meters to the incident (those raised before the storm was
    /// recognised); returns how many were attached. No lifecycle event: they were notified already, and stay as they are.
    /// </summary>
    public Task<int> AttachAsync(Guid incidentId, string region, IReadOnlyList<string> meterIds) =>
        ExecuteAsync("""
            UPDATE alerts SET incident_id = $1, updated_at = now()
            WHERE region = $2 AND meter_id = ANY ($3) AND status <> 'resolved' AND incident_id IS NULL
              AND (type = 'OUTAGE' OR (type = 'ANOMALY' AND metadata ->> 'kind' = 'drop'))
            """, incidentId, region, meterIds.ToArray());

    /// <summary>Resolves the region's open overload (THRESHOLD) alert, if it has one.</summary>
    /// <summary>Resolves the open overload alert of a region, or of one of its transformers or feeders (<paramref name="nodeId"/>).</summary>
    public Task<AlertView?> ResolveOverloadAsync(string region, DateTimeOffset at, string? nodeId = null) =>
        SingleAsync($"""
            UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = 'system', updated_at = now()
            WHERE type = 'THRESHOLD' AND region = $1 AND meter_id IS NULL AND node_id IS NOT DISTINCT FROM $3::text AND status <> 'resolved'
            RETURNING {AlertRows.Columns}
            """, region, at, nodeId);

    /// <summary>The audit row of a lifecycle event, which is also the alerts topic's outbox row.</summary>
    public Task AuditAsync(AlertView alert, string action, string actor, DateTimeOffset at, string? note = null) =>
        ExecuteAsync(
            "INSERT INTO alert_acknowledgments (alert_id, action, actor, at, alert, note) VALUES ($1, $2, $3, $4, $5::jsonb, $6::text)",
            alert.AlertId, action, actor, at, WireJson.Serialize(alert), note);

    private async Task<AlertView?> SingleAsync(string sql, params object?[] values)
    {
        await using var command = Command(sql, values);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? AlertRows.Read(reader) : null;
    }
}
