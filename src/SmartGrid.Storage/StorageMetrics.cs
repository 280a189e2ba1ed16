using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SmartGrid.Storage;

/// <summary>
/// The stores' instruments (Meter <see cref="MeterName"/>). Static because the stores are built
/// by <see cref="StorageServices"/> outside any container; Npgsql's own meter ("Npgsql") adds
/// pool and per-command figures underneath.
/// </summary>
public static class StorageMetrics
{
    public const string MeterName = "SmartGrid.Storage";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Histogram<double> WriteDuration = Meter.CreateHistogram<double>("write.duration", "ms",
        "One batched write (rows and, for projections, their offset in the same transaction), by table");
    public static readonly Counter<long> RowsWritten = Meter.CreateCounter<long>("rows.written", "{row}",
        "Rows sent in batched writes, by table (UPSERTed or inserted; duplicates skipped by the database included)");
    public static readonly Histogram<double> QueryDuration = Meter.CreateHistogram<double>("query.duration", "ms",
        "Read queries of the gateway and ground-truth checks, by query");

    internal static void Written(string table, int rows, long startedTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("table", table);
        WriteDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, tag);
        RowsWritten.Add(rows, tag);
    }

    internal static void Queried(string query, long startedTimestamp) =>
        QueryDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, new KeyValuePair<string, object?>("query", query));
}
