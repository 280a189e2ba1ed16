using Microsoft.Extensions.Logging;

namespace SmartGrid.Ingestion;

/// <summary>Ingestion's log lines, source-generated so a disabled level costs no formatting or boxing.</summary>
internal static partial class IngestionLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingestion keys: PostgreSQL did not answer; checking keys against the ones loaded before")]
    public static partial void KeysFromCache(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter registry unavailable; batch of {Count} refused")]
    public static partial void RegistryUnavailable(this ILogger log, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest ledger unavailable; batch of {Count} refused")]
    public static partial void LedgerRefusedBatch(this ILogger log, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest ledger: {Rows} row(s) of {Owner} with {Readings} reading(s) left by the previous run; publishing them again first")]
    public static partial void LedgerLeftovers(this ILogger log, int rows, string owner, long readings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest ledger unavailable ({Reason}); retrying")]
    public static partial void LedgerUnavailable(this ILogger log, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka did not take ledger row {Id}: {Reason}; it is published again")]
    public static partial void RowNotTaken(this ILogger log, long id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka refused ledger row {Id}: {Reason}; it is published again")]
    public static partial void RowRefused(this ILogger log, long id, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ingest ledger: broker offsets unavailable ({Reason})")]
    public static partial void BrokerOffsetsUnavailable(this ILogger log, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest ledger: the broker lost {Readings} acknowledged reading(s) the processor had not consumed; publishing them again")]
    public static partial void BrokerLostReadings(this ILogger log, long readings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest ledger: deleting {Rows} consumed row(s) failed ({Reason}); retrying")]
    public static partial void DeleteConsumedFailed(this ILogger log, int rows, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest ledger: reading {Rows} row(s) back failed ({Reason}); retrying")]
    public static partial void ReadBackFailed(this ILogger log, int rows, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ingest ledger: {Topic} partition {Partition} restarted ({Evidence}); rows placed there before are published again")]
    public static partial void PartitionRestarted(this ILogger log, string topic, int partition, string evidence);
}
