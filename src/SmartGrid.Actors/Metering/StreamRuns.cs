namespace SmartGrid.Actors.Metering;

/// <summary>
/// Names each materialization of a partition's sub-stream, so a meter can tell a replay from the
/// last commit (a newer run) from the tail of the run it replaced. Wall-clock ticks, made strictly
/// increasing within the node: a partition moves between nodes only after a rebalance of seconds,
/// far more than the clock skew of synchronized hosts.
/// </summary>
public static class StreamRuns
{
    private static long _last;

    public static long Next()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _last);
            var next = Math.Max(DateTime.UtcNow.Ticks, last + 1);
            if (Interlocked.CompareExchange(ref _last, next, last) == last) return next;
        }
    }
}
