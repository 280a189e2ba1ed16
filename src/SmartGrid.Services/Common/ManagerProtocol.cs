using Akka.Actor;
using Akka.Event;

namespace SmartGrid.Services.Common;

/// <summary>
/// One Kafka record for a manager, sent by its consumer stream (or directly by a test). The
/// manager answers <see cref="RecordHandled"/> once the record's effect is durable (database
/// committed, Kafka messages acknowledged), or a <see cref="Status.Failure"/>; the stream commits
/// the offset only after the answer. Local to the singleton's node: never crosses the wire.
/// <paramref name="Message"/> is the value already read and validated by the consumer (null when
/// the record is sent directly: the manager reads it then).
/// </summary>
public sealed record ConsumedRecord(string Topic, string? Key, string Value, object? Message = null);

/// <summary>The record's effect is durable. <paramref name="Outcome"/> says what it did (for logs and tests).</summary>
public sealed record RecordHandled(string Outcome)
{
    public static readonly RecordHandled Ignored = new("ignored");
    public static readonly RecordHandled Duplicate = new("duplicate");
    public static readonly RecordHandled Malformed = new("malformed");
}

/// <summary>Ask the manager to run its periodic work now (tests; the manager also schedules it).</summary>
public sealed record RunMaintenance : IDeadLetterSuppression
{
    public static readonly RunMaintenance Instance = new();
}

public sealed record MaintenanceDone
{
    public static readonly MaintenanceDone Instance = new();
}
