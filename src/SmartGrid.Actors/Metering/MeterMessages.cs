using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Metering;

/// <summary>Carries the meter id the shard extractor routes on.</summary>
public interface IMeterMessage
{
    string MeterId { get; }
}

/// <summary>A batch of one meter's readings from one Kafka partition. Answered with <see cref="ReadingsRecorded"/> once durable.</summary>
public sealed record RecordReadings(string MeterId, IReadOnlyList<TelemetryReading> Readings) : IMeterMessage;

public sealed record ReadingsRecorded(string MeterId, int Accepted, int Duplicates, int TooLate);

public sealed record GetMeterStatus(string MeterId) : IMeterMessage;

public sealed record MeterStatus(
    string MeterId, string Region, DateTimeOffset? LastReadingAt, long AcceptedTotal, long DuplicatesTotal, long TooLateTotal,
    IReadOnlyList<MeterWindowStatus> OpenWindows, double?[] BaselineKwByHour);

public sealed record MeterWindowStatus(string Size, DateTimeOffset WindowStart, int ReadingCount, double PowerKwAvg, int Revision, bool Unpublished);
