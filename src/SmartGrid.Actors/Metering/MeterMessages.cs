using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Metering;

/// <summary>Carries the meter id the shard extractor routes on: the message goes to the meter's bucket.</summary>
public interface IMeterMessage
{
    string MeterId { get; }
}

/// <summary>
/// Carries the bucket the shard extractor routes on: a bucket (<see cref="MeterBucket"/>) is the sharded entity that
/// hosts the meters of one shard, and its id is that shard's id (<see cref="MeterMessageExtractor.ShardOf(string)"/>).
/// </summary>
public interface IBucketMessage
{
    string BucketId { get; }
}

/// <summary>One meter's readings of a telemetry group, in offset order.</summary>
public sealed record MeterReadings(string MeterId, IReadOnlyList<TelemetryReading> Readings);

/// <summary>
/// A telemetry group's readings for the meters of one bucket, all from one Kafka partition (a bucket's meters are of
/// one partition). The bucket applies them at once and answers <see cref="ReadingsRecorded"/>; the readings are durable
/// only after a <see cref="CheckpointReadings"/> that follows it has been answered.
/// </summary>
/// <param name="Meters">Each meter once, in order of its first reading in the group.</param>
/// <param name="Run">
/// The partition's stream run that read the group (<see cref="StreamRuns"/>): a newer run replays from the last commit,
/// so a meter still holding unpersisted readings of an older run starts over from its journal before taking it, and
/// groups of an older run are refused.
/// </param>
public sealed record RecordReadings(string BucketId, IReadOnlyList<MeterReadings> Meters, long Run = 0) : IBucketMessage
{
    /// <summary>One meter's readings alone, to its bucket.</summary>
    public static RecordReadings Of(string meterId, IReadOnlyList<TelemetryReading> readings, long run = 0) =>
        new(MeterMessageExtractor.ShardOf(meterId), [new MeterReadings(meterId, readings)], run);
}

/// <summary>
/// What the bucket made of a group, summed over its meters. <paramref name="Incarnation"/> names the bucket instance
/// that holds the readings in memory: a checkpoint must reach that same instance with that same incarnation, or they
/// are gone. <see cref="Guid.Empty"/> when the group was refused (its run was replaced): no checkpoint can cover it.
/// </summary>
public sealed record ReadingsRecorded(string BucketId, int Accepted, int Duplicates, int TooLate, Guid Incarnation);

/// <summary>
/// Persist everything the bucket's meters recorded so far. Answered with <see cref="ReadingsCheckpointed"/> once it
/// is in the journal, or <see cref="CheckpointRefused"/> when the incarnation that recorded the readings is no longer
/// the bucket's (it restarted, moved, or started a meter over for a replay): the caller must then replay.
/// </summary>
public sealed record CheckpointReadings(string BucketId, Guid Incarnation) : IBucketMessage
{
    /// <summary>The checkpoint of the bucket that hosts <paramref name="meterId"/>.</summary>
    public static CheckpointReadings Of(string meterId, Guid incarnation) => new(MeterMessageExtractor.ShardOf(meterId), incarnation);
}

public sealed record ReadingsCheckpointed(string BucketId, int Meters, int Events);

public sealed record CheckpointRefused(string BucketId, Guid Expected, Guid Actual);

public sealed record GetMeterStatus(string MeterId) : IMeterMessage;

/// <summary>How many meters the bucket holds in memory, and whether <paramref name="MeterId"/> is one of them.</summary>
public sealed record GetBucketStatus(string BucketId, string? MeterId = null) : IBucketMessage
{
    public static GetBucketStatus Of(string meterId) => new(MeterMessageExtractor.ShardOf(meterId), meterId);
}

public sealed record BucketStatus(string BucketId, int ActiveMeters, bool MeterActive);

public sealed record MeterStatus(
    string MeterId, string Region, DateTimeOffset? LastReadingAt, long AcceptedTotal, long DuplicatesTotal, long TooLateTotal,
    IReadOnlyList<MeterWindowStatus> OpenWindows, double?[] BaselineKwByHour);

public sealed record MeterWindowStatus(string Size, DateTimeOffset WindowStart, int ReadingCount, double PowerKwAvg, int Revision, bool Unpublished);
