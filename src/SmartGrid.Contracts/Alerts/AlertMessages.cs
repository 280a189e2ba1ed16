using System.Text.Json;
using SmartGrid.Domain.Alerts;

namespace SmartGrid.Contracts.Alerts;

/// <summary>An alert as stored in alerts, and as carried by the alerts topic and command replies.</summary>
public sealed record AlertView
{
    public required Guid AlertId { get; init; }
    public required AlertType Type { get; init; }
    /// <summary>low | medium | high | critical</summary>
    public required string Severity { get; init; }
    public required string Region { get; init; }
    public string? MeterId { get; init; }
    /// <summary>The transformer or feeder an overload alert is about; null for a region's and for meters' alerts.</summary>
    public string? NodeId { get; init; }
    public required string Message { get; init; }
    /// <summary>Context: baseline, current value, threshold, window…</summary>
    public JsonElement Metadata { get; init; }
    public required AlertStatus Status { get; init; }
    public int OccurrenceCount { get; init; }
    public DateTimeOffset FirstSeenAt { get; init; }
    public DateTimeOffset LastSeenAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? AcknowledgedBy { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public string? ResolvedBy { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>The open INCIDENT this per-meter alert belongs to: it is not notified on its own (the incident is).</summary>
    public Guid? IncidentId { get; init; }
}

/// <summary>
/// A lifecycle event on the alerts topic (key: alert_id). event_id is the audit row's id: unique,
/// increasing, and the same when the event is re-sent, so consumers can de-duplicate on it.
/// Note is the operator's (acknowledge, resolve) or the system's (why a resolve kept the alert open).
/// </summary>
public sealed record AlertEventMessage(long EventId, string Event, string Actor, DateTimeOffset OccurredAt, AlertView Alert, string? Note = null);

/// <summary>Operator: the alert is being looked at. Only an active alert can be acknowledged.</summary>
public sealed record AcknowledgeAlert(Guid AlertId, string By, string? Note = null);

/// <summary>
/// Operator: the issue is fixed. An active or acknowledged alert can be resolved, once. An overload
/// asked to resolve while the region is still overloaded stays open (acknowledged) with a 'noted'
/// event saying so: it resolves itself once the load has cleared, instead of re-raising as a new alert.
/// </summary>
public sealed record ResolveAlert(Guid AlertId, string By, string? Note = null);

public enum AlertCommandError
{
    NotFound = 1,
    InvalidTransition = 2,
}

/// <summary>Reply to <see cref="AcknowledgeAlert"/> / <see cref="ResolveAlert"/>: the alert after the transition.</summary>
public sealed record AlertCommandSucceeded(AlertView Alert);

/// <summary>Reply when the command was refused; nothing was changed.</summary>
public sealed record AlertCommandRejected(Guid AlertId, AlertCommandError Error, string Reason);
