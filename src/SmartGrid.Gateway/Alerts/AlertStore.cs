using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using SmartGrid.Services.Alerts;

namespace SmartGrid.Gateway.Alerts;

/// <summary>Filters of an alert list; null means any.</summary>
public sealed record AlertFilter(IReadOnlyList<string>? Regions, string? Severity, string? Type, IReadOnlyList<string> Statuses,
    IReadOnlyList<string>? MeterIds = null);

/// <summary>One lifecycle event of an alert (alert_acknowledgments).</summary>
public sealed record AlertEvent(long EventId, string Action, string Actor, DateTimeOffset At);

/// <summary>
/// Reads the AlertManager's tables. Every change of an alert goes through the AlertManager
/// singleton (it writes the audit row and the alerts topic with it); the gateway only reads.
/// </summary>
public sealed class AlertStore(NpgsqlDataSource db)
{
    private const string Columns = """
        alert_id, type, severity, region, meter_id, message, metadata::text, status, occurrence_count,
        first_seen_at, last_seen_at, created_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at
        """;

    /// <summary>Most severe first, then most recently seen.</summary>
    public async Task<(IReadOnlyList<AlertView> Items, long Total)> ListAsync(AlertFilter filter, int limit, int offset, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            $"""
            SELECT {Columns}, count(*) OVER () FROM alerts
            WHERE ($1::text[] IS NULL OR region = ANY ($1))
              AND ($2::text IS NULL OR severity = $2)
              AND ($3::text IS NULL OR type = $3)
              AND status = ANY ($4)
              AND ($5::text[] IS NULL OR meter_id = ANY ($5))
            ORDER BY array_position(ARRAY['critical','high','medium','low'], severity), last_seen_at DESC, alert_id
            LIMIT $6 OFFSET $7
            """);
        cmd.Parameters.Add(TextArray(filter.Regions));
        cmd.Parameters.Add(Text(filter.Severity));
        cmd.Parameters.Add(Text(filter.Type));
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = filter.Statuses.ToArray() });
        cmd.Parameters.Add(TextArray(filter.MeterIds));
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = offset });
        var items = new List<AlertView>();
        long total = 0;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(Read(reader));
            total = reader.GetInt64(16);
        }
        return (items, total);
    }

    public async Task<AlertView?> FindAsync(Guid alertId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM alerts WHERE alert_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = alertId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<AlertEvent>> EventsAsync(Guid alertId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT event_id, action, actor, at FROM alert_acknowledgments WHERE alert_id = $1 ORDER BY event_id");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = alertId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var events = new List<AlertEvent>();
        while (await reader.ReadAsync(ct))
            events.Add(new AlertEvent(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        return events;
    }

    /// <summary>Open (active or acknowledged) alerts per region and severity.</summary>
    public async Task<IReadOnlyDictionary<string, Dictionary<string, long>>> OpenCountsAsync(IReadOnlyList<string> regions, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "SELECT region, severity, count(*) FROM alerts WHERE region = ANY ($1) AND status <> 'resolved' GROUP BY region, severity");
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = regions.ToArray() });
        var counts = regions.ToDictionary(r => r, _ => new Dictionary<string, long>(), StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            counts[reader.GetString(0)][reader.GetString(1)] = reader.GetInt64(2);
        return counts;
    }

    private static AlertView Read(NpgsqlDataReader r)
    {
        using var metadata = JsonDocument.Parse(r.GetString(6));
        return new AlertView
        {
            AlertId = r.GetGuid(0),
            Type = r.GetString(1),
            Severity = r.GetString(2),
            Region = r.GetString(3),
            MeterId = r.IsDBNull(4) ? null : r.GetString(4),
            Message = r.GetString(5),
            Metadata = metadata.RootElement.Clone(),
            Status = r.GetString(7),
            OccurrenceCount = r.GetInt32(8),
            FirstSeenAt = r.GetFieldValue<DateTimeOffset>(9),
            LastSeenAt = r.GetFieldValue<DateTimeOffset>(10),
            CreatedAt = r.GetFieldValue<DateTimeOffset>(11),
            AcknowledgedBy = r.IsDBNull(12) ? null : r.GetString(12),
            AcknowledgedAt = r.IsDBNull(13) ? null : r.GetFieldValue<DateTimeOffset>(13),
            ResolvedBy = r.IsDBNull(14) ? null : r.GetString(14),
            ResolvedAt = r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15),
        };
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter TextArray(IReadOnlyList<string>? values) =>
        new() { Value = (object?)values?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };
}
