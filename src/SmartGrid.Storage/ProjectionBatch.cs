using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// Sends a projection's UPSERTs and its checkpoint as ONE batch without an explicit transaction:
/// PostgreSQL runs everything up to the batch's single Sync as one implicit transaction, so a
/// failing statement rolls back the statements before it and the offset (error barriers stay
/// off for exactly that reason). One round trip; no separate BEGIN / COMMIT.
/// </summary>
internal static class ProjectionBatch
{
    /// <summary>
    /// Windows to their tables: grouped by table, the later of two versions of a window (by <paramref name="key"/>) wins,
    /// written with <paramref name="checkpoint"/> by <see cref="ExecuteAsync"/>. <paramref name="after"/> are statements
    /// that run after the UPSERTs in the same transaction (they see the rows).
    /// </summary>
    public static Task UpsertWindowsAsync<TRow, TKey>(
        NpgsqlDataSource dataSource,
        PartitionMaintenance partitions,
        IEnumerable<TRow> rows,
        Func<TRow, TimeSeriesTable> table,
        Func<TRow, TKey> key,
        Func<TRow, DateTimeOffset> windowStart,
        Func<IReadOnlyList<TRow>, UnnestUpsert<TRow>> upsert,
        IReadOnlyList<(TimeSeriesTable? Table, IReadOnlyList<DateTimeOffset> Timestamps, Func<NpgsqlBatchCommand> Build)> after,
        ProjectionCheckpoint? checkpoint,
        CancellationToken ct)
        where TKey : notnull
    {
        var upserts = new List<(TimeSeriesTable?, IReadOnlyList<DateTimeOffset>, Func<NpgsqlBatchCommand>)>();
        foreach (var group in rows.GroupBy(table))
        {
            var last = new Dictionary<TKey, TRow>();
            foreach (var row in group)
                last[key(row)] = row;
            List<TRow> windows = [.. last.Values];
            upserts.Add((group.Key, windows.Select(windowStart).ToArray(), () => upsert(windows).Build(group.Key)));
        }
        upserts.AddRange(after);

        return ExecuteAsync(dataSource, partitions, upserts, checkpoint, ct);
    }

    public static async Task ExecuteAsync(
        NpgsqlDataSource dataSource,
        PartitionMaintenance partitions,
        IReadOnlyList<(TimeSeriesTable? Table, IReadOnlyList<DateTimeOffset> Timestamps, Func<NpgsqlBatchCommand> Build)> upserts,
        ProjectionCheckpoint? checkpoint,
        CancellationToken ct)
    {
        if (upserts.Count == 0 && checkpoint is null)
            return;

        await WriteRetry.OnMissingPartitionAsync(
            partitions,
            // A statement on a plain table (Table null) needs no partition.
            upserts.Where(u => u.Table is not null).Select(u => (u.Table!, u.Timestamps)).ToList(),
            async () =>
            {
                await using var conn = await dataSource.OpenConnectionAsync(ct);
                await using var batch = new NpgsqlBatch(conn) { EnableErrorBarriers = false };
                foreach (var u in upserts)
                    batch.BatchCommands.Add(u.Build());
                if (checkpoint is not null)
                    batch.BatchCommands.Add(ProjectionOffsets.StoreCommand(checkpoint));
                await batch.ExecuteNonQueryAsync(ct);
                return true;
            },
            ct);
    }
}
