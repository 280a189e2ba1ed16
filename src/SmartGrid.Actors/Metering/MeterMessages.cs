using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Metering;

/// <summary>Carries the meter id the shard extractor routes on.</summary>
public interface IMeterMessage
{
    string MeterId { get; }
}

/// <summary>
/// A batch of one meter's readings from one Kafka partition. The meter applies it at once and
/// answers <see cref="ReadingsRecorded"/>; the readings are durable only after a
/// <see cref="CheckpointMeter"/> that follows it has been answered.
/// </summary>
/// <param name="Run">
/// The partition's stream run that read the batch (<see cref="StreamRuns"/>): a newer run replays
/// from the last commit, so a meter still holding unpersisted readings of an older run starts over
/// from its journal before taking it, and batches of an older run are refused.
/// </param>
public sealed record RecordReadings(string MeterId, IReadOnlyList<TelemetryReading> Readings, long Run = 0) : IMeterMessage;

/// <summary>
/// What the meter made of a batch. <paramref name="Incarnation"/> names the actor instance that
/// holds the readings in memory: a checkpoint must reach that same instance, or they are gone.
/// <see cref="Guid.Empty"/> when the batch was refused (its run was replaced): no checkpoint can cover it.
/// </summary>
public sealed record ReadingsRecorded(string MeterId, int Accepted, int Duplicates, int TooLate, Guid Incarnation);

/// <summary>
/// Persist everything recorded so far. Answered with <see cref="MeterCheckpointed"/> once it is
/// in the journal, or <see cref="MeterCheckpointRefused"/> when the instance that recorded the
/// readings is no longer the one running (restarted, handed off): the caller must then replay.
/// </summary>
public sealed record CheckpointMeter(string MeterId, Guid Incarnation) : IMeterMessage;

public sealed record MeterCheckpointed(string MeterId, int Events);

public sealed record MeterCheckpointRefused(string MeterId, Guid Expected, Guid Actual);

public sealed record GetMeterStatus(string MeterId) : IMeterMessage;

public sealed record MeterStatus(
    string MeterId, string Region, DateTimeOffset? LastReadingAt, long AcceptedTotal, long DuplicatesTotal, long TooLateTotal,
    IReadOnlyList<MeterWindowStatus> OpenWindows, double?[] BaselineKwByHour);

public sealed record MeterWindowStatus(string Size, DateTimeOffset WindowStart, int ReadingCount, double PowerKwAvg, int Revision, bool Unpublished);
