using System.Text.Json;
using Npgsql;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;

namespace SmartGrid.Storage.Alerts;

/// <summary>
/// The one mapping of an alerts row to its <see cref="AlertView"/>, for the AlertManager that writes alerts and the
/// gateway that reads them: select <see cref="Columns"/> first, then anything else after them.
/// </summary>
public static class AlertRows
{
    public const string Columns = """
        alert_id, type, severity, region, meter_id, message, metadata::text AS metadata, status, occurrence_count,
        first_seen_at, last_seen_at, created_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at, incident_id, node_id
        """;

    /// <summary>How many columns <see cref="Columns"/> selects: the ordinal of the first one after them.</summary>
    public const int Count = 18;

    public static AlertView Read(NpgsqlDataReader r)
    {
        using var metadata = JsonDocument.Parse(r.GetString(6));
        return new AlertView
        {
            AlertId = r.GetGuid(0),
            Type = WireName.Parse<AlertType>(r.GetString(1)),
            Severity = r.GetString(2),
            Region = r.GetString(3),
            MeterId = r.IsDBNull(4) ? null : r.GetString(4),
            Message = r.GetString(5),
            Metadata = metadata.RootElement.Clone(),
            Status = WireName.Parse<AlertStatus>(r.GetString(7)),
            OccurrenceCount = r.GetInt32(8),
            FirstSeenAt = r.GetFieldValue<DateTimeOffset>(9),
            LastSeenAt = r.GetFieldValue<DateTimeOffset>(10),
            CreatedAt = r.GetFieldValue<DateTimeOffset>(11),
            AcknowledgedBy = r.IsDBNull(12) ? null : r.GetString(12),
            AcknowledgedAt = r.IsDBNull(13) ? null : r.GetFieldValue<DateTimeOffset>(13),
            ResolvedBy = r.IsDBNull(14) ? null : r.GetString(14),
            ResolvedAt = r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15),
            IncidentId = r.IsDBNull(16) ? null : r.GetGuid(16),
            NodeId = r.IsDBNull(17) ? null : r.GetString(17),
        };
    }
}
