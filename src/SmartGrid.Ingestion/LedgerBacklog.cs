namespace SmartGrid.Ingestion;

/// <summary>
/// What this ingest node's ledger still holds (rows acknowledged but not yet consumed by the
/// processor), shared by the endpoint (to refuse new batches past the bound), the pump and the metrics.
/// </summary>
public sealed class LedgerBacklog
{
    private long _rows;
    private long _readings;
    private volatile bool _throttled;

    public long Rows => Interlocked.Read(ref _rows);
    public long Readings => Interlocked.Read(ref _readings);

    /// <summary>True while the pump holds rows back because the broker's unconsumed backlog is at its budget.</summary>
    public bool Throttled
    {
        get => _throttled;
        internal set => _throttled = value;
    }

    internal void Add(long rows, long readings)
    {
        Interlocked.Add(ref _rows, rows);
        Interlocked.Add(ref _readings, readings);
    }

    internal void Remove(long rows, long readings) => Add(-rows, -readings);
}
