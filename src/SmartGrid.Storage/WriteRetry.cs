using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// Runs a write after making sure partitions cover its timestamps, and retries it once if a
/// partition the cache believed in is gone (dropped by another process's retention job, or the
/// cache is stale): PostgreSQL then reports check_violation without a constraint name.
/// Writes are single statements or implicit-transaction batches, so a failed attempt left nothing.
/// </summary>
internal static class WriteRetry
{
    public static async Task<T> OnMissingPartitionAsync<T>(
        PartitionMaintenance partitions,
        IReadOnlyList<(TimeSeriesTable Table, IReadOnlyList<DateTimeOffset> Timestamps)> coverage,
        Func<Task<T>> write,
        CancellationToken ct)
    {
        foreach (var (table, timestamps) in coverage)
            await partitions.EnsureCoveredAsync(table, timestamps, ct);
        try
        {
            return await write();
        }
        catch (PostgresException ex) when (IsMissingPartition(ex))
        {
            foreach (var (table, timestamps) in coverage)
            {
                partitions.Forget(table, timestamps);
                await partitions.EnsureCoveredAsync(table, timestamps, ct);
            }
            return await write();
        }
    }

    private static bool IsMissingPartition(PostgresException ex) =>
        ex.SqlState == PostgresErrorCodes.CheckViolation && ex.ConstraintName is null;
}
