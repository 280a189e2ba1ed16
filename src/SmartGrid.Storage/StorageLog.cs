using Microsoft.Extensions.Logging;

namespace SmartGrid.Storage;

/// <summary>The storage layer's log lines, source-generated so a disabled level costs no formatting or boxing.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Database {Database} is up to date ({Applied} script(s) applied)")]
    public static partial void DatabaseUpToDate(this ILogger log, string? database, int applied);

    [LoggerMessage(Level = LogLevel.Information, Message = "Journal cleanup: {Events} event(s) behind snapshots and projection offset {Cutoff}, {Snapshots} superseded snapshot(s) deleted")]
    public static partial void JournalCleaned(this ILogger log, long events, long? cutoff, long snapshots);

    [LoggerMessage(Level = LogLevel.Error, Message = "Journal cleanup failed; retrying in {Interval}")]
    public static partial void JournalCleanupFailed(this ILogger log, Exception exception, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Debug, Message = "journal cleanup stopped")]
    public static partial void JournalCleanupStopped(this ILogger log);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Count} expired partition(s) of {Table} (retention {Retention}, cutoff {Cutoff:O})")]
    public static partial void PartitionsDropped(this ILogger log, int count, string table, TimeSpan retention, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created {Count} partition(s) of {Table} ({First} .. {Last})")]
    public static partial void PartitionsCreated(this ILogger log, int count, string table, DateOnly first, DateOnly last);

    [LoggerMessage(Level = LogLevel.Error, Message = "Partition maintenance failed; retrying in {Interval}")]
    public static partial void PartitionMaintenanceFailed(this ILogger log, Exception exception, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Debug, Message = "partition maintenance stopped")]
    public static partial void PartitionMaintenanceStopped(this ILogger log);
}
