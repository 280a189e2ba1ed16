using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;

namespace SmartGrid.Storage.Alerts;

/// <summary>
/// Escalation policies (ADMIN-managed through the gateway) and the escalation rows the NotificationManager's timer works
/// over (alert_escalations, alert_escalation_events). See migration 0075.
/// </summary>
public sealed class EscalationStore(NpgsqlDataSource db)
{
    private const string PolicyColumns = "policy_id, name, severity, alert_type, region, tiers::text, created_by, created_at, updated_at";

    /// <summary>Every policy, oldest first (the order that breaks ties between equally specific ones).</summary>
    public async Task<IReadOnlyList<StoredEscalationPolicy>> ListAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = Db.Command(connection, null, $"SELECT {PolicyColumns} FROM escalation_policies ORDER BY created_at, policy_id");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var policies = new List<StoredEscalationPolicy>();
        while (await reader.ReadAsync(ct))
            policies.Add(Read(reader));
        return policies;
    }

    public async Task<StoredEscalationPolicy?> FindAsync(Guid policyId, CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = Db.Command(connection, null, $"SELECT {PolicyColumns} FROM escalation_policies WHERE policy_id = $1", policyId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Creates (new id) or replaces the policy; false when another policy already has its name.</summary>
    public async Task<bool> SaveAsync(EscalationPolicy policy, string by, bool create, CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var sql = create
            ? """
              INSERT INTO escalation_policies (policy_id, name, severity, alert_type, region, tiers, created_by)
              VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
              """
            : """
              UPDATE escalation_policies SET name = $2, severity = $3, alert_type = $4, region = $5, tiers = $6::jsonb, updated_at = now()
              WHERE policy_id = $1 AND $7::text IS NOT NULL
              """;
        try
        {
            return await Db.ExecuteAsync(connection, null, sql, policy.PolicyId, policy.Name, policy.Severity, policy.AlertType?.ToWireName(), policy.Region,
                TiersJson(policy.Tiers), by) == 1;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(Guid policyId, CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await Db.ExecuteAsync(connection, null, "DELETE FROM escalation_policies WHERE policy_id = $1", policyId) == 1;
    }

    /// <summary>
    /// Starts the escalation of a raised alert unless it has one already (a redelivered "created" event must not restart
    /// it) or no longer exists in alerts (only alerts the AlertManager stored escalate).
    /// </summary>
    public async Task StartAsync(AlertEscalation escalation)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Db.ExecuteAsync(connection, null, """
            INSERT INTO alert_escalations (alert_id, region, alert_type, severity, policy_id, tier, tier_since, reminders, last_notified_at, step)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE EXISTS (SELECT 1 FROM alerts WHERE alert_id = $1)
            ON CONFLICT (alert_id) DO NOTHING
            """, escalation.AlertId, escalation.Region, escalation.AlertType.ToWireName(), escalation.Severity, escalation.PolicyId, escalation.Tier,
            escalation.TierSince, escalation.Reminders, escalation.LastNotifiedAt, escalation.Step);
    }

    /// <summary>Stops an alert's escalation (acknowledged or resolved); the timer also stops it on its own once it sees the status.</summary>
    public async Task StopAsync(Guid alertId, DateTimeOffset at)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Db.ExecuteAsync(connection, null,
            "UPDATE alert_escalations SET stopped_at = $2, step = step + 1, updated_at = now() WHERE alert_id = $1 AND stopped_at IS NULL",
            alertId, at);
    }

    /// <summary>
    /// Every running escalation with its alert's status and severity now, the longest without a message first. All of them:
    /// a row with nothing due costs a decision in memory, and a limit here would let old rows with nothing due hide a new
    /// one that is.
    /// </summary>
    public async Task<IReadOnlyList<(AlertEscalation Escalation, AlertStatus Status, string Severity)>> RunningAsync()
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, """
            SELECT e.alert_id, e.region, e.alert_type, e.severity, e.policy_id, e.tier, e.tier_since, e.reminders, e.last_notified_at, e.step,
                   coalesce(a.status, 'resolved'), coalesce(a.severity, e.severity)
            FROM alert_escalations e LEFT JOIN alerts a ON a.alert_id = e.alert_id
            WHERE e.stopped_at IS NULL ORDER BY e.last_notified_at
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var running = new List<(AlertEscalation, AlertStatus, string)>();
        while (await reader.ReadAsync())
        {
            running.Add((new AlertEscalation(reader.GetGuid(0), reader.GetString(1), WireName.Parse<AlertType>(reader.GetString(2)), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetGuid(4), reader.GetInt32(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7),
                reader.GetFieldValue<DateTimeOffset>(8), reader.GetInt32(9)), WireName.Parse<AlertStatus>(reader.GetString(10)), reader.GetString(11)));
        }
        return running;
    }

    /// <summary>
    /// Records <paramref name="next"/> if the row is still at <paramref name="before"/>'s step (false: another owner moved it
    /// first), with the timeline event of an escalation change, in one transaction.
    /// </summary>
    public async Task<bool> AdvanceAsync(AlertEscalation before, AlertEscalation next, bool stopped, DateTimeOffset now,
        (string Action, string Note)? timeline)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var updated = await Db.ExecuteAsync(connection, transaction, """
            UPDATE alert_escalations SET severity = $3, policy_id = $4, tier = $5, tier_since = $6, reminders = $7, last_notified_at = $8,
                   step = $9, stopped_at = CASE WHEN $10 THEN $11 ELSE NULL END, updated_at = now()
            WHERE alert_id = $1 AND step = $2 AND stopped_at IS NULL
            """, before.AlertId, before.Step, next.Severity, next.PolicyId, next.Tier, next.TierSince, next.Reminders, next.LastNotifiedAt,
            next.Step, stopped, now);
        if (updated != 1)
            return false;
        if (timeline is { } t)
        {
            await Db.ExecuteAsync(connection, transaction, """
                INSERT INTO alert_escalation_events (alert_id, step, action, tier, at, note) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (alert_id, step) DO NOTHING
                """, next.AlertId, next.Step, t.Action, next.Tier, now, t.Note);
        }
        await transaction.CommitAsync();
        return true;
    }

    private static StoredEscalationPolicy Read(NpgsqlDataReader r) => new(
        new EscalationPolicy(r.GetGuid(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : WireName.Parse<AlertType>(r.GetString(3)),
            r.IsDBNull(4) ? null : r.GetString(4), ParseTiers(r.GetString(5))),
        r.GetString(6), r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8));

    private static string TiersJson(IEnumerable<EscalationTier> tiers) =>
        new JsonArray(tiers.Select(t => (JsonNode)new JsonObject
        {
            ["users"] = new JsonArray(t.Users.Select(u => (JsonNode)JsonValue.Create(u.ToString())!).ToArray()),
            ["roles"] = new JsonArray(t.Roles.Select(r => (JsonNode)JsonValue.Create(r)!).ToArray()),
            ["wait_minutes"] = (int)t.Wait.TotalMinutes,
        }).ToArray()).ToJsonString();

    private static List<EscalationTier> ParseTiers(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray().Select(t => new EscalationTier(
            t.GetProperty("users").EnumerateArray().Select(u => Guid.Parse(u.GetString()!)).ToList(),
            t.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToList(),
            TimeSpan.FromMinutes(t.GetProperty("wait_minutes").GetInt32()))).ToList();
    }
}

/// <summary>A policy with who made it and when.</summary>
public sealed record StoredEscalationPolicy(EscalationPolicy Policy, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
