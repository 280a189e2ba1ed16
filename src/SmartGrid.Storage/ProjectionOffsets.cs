using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// The stored offsets of projections (<c>projection_offsets</c>). <see cref="AggregateStore"/> and
/// <see cref="RegionalAggregateStore"/> write them in the same transaction as their rows; this class reads them.
/// An offset only moves forward: a stale writer cannot rewind a projection.
/// </summary>
public sealed class ProjectionOffsets
{
    private const string StoreSql =
        """
        INSERT INTO projection_offsets AS o (projection_id, ordering, updated_at)
        VALUES ($1, $2, now())
        ON CONFLICT (projection_id) DO UPDATE
            SET ordering = EXCLUDED.ordering, updated_at = EXCLUDED.updated_at
            WHERE o.ordering < EXCLUDED.ordering
        """;

    private readonly NpgsqlDataSource _dataSource;

    public ProjectionOffsets(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>The stored offset of <paramref name="projectionId"/>, 0 when it has none (start from the beginning).</summary>
    public async Task<long> LoadAsync(string projectionId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(projectionId);
        await using var cmd = Db.Command(_dataSource, "SELECT ordering FROM projection_offsets WHERE projection_id = $1", projectionId);
        return await cmd.ExecuteScalarAsync(ct) is long ordering ? ordering : 0L;
    }

    /// <summary>Stores an offset on its own (a stretch of events that produced no rows).</summary>
    public async Task StoreAsync(ProjectionCheckpoint checkpoint, CancellationToken ct = default)
    {
        Check(checkpoint);
        await using var cmd = Db.Command(_dataSource, StoreSql, checkpoint.ProjectionId, Db.Value(checkpoint.Ordering));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The command that stores <paramref name="checkpoint"/>, for a caller's batch.</summary>
    internal static NpgsqlBatchCommand StoreCommand(ProjectionCheckpoint checkpoint)
    {
        Check(checkpoint);
        return Db.Statement(StoreSql, checkpoint.ProjectionId, Db.Value(checkpoint.Ordering));
    }

    private static void Check(ProjectionCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentException.ThrowIfNullOrEmpty(checkpoint.ProjectionId);
        ArgumentOutOfRangeException.ThrowIfNegative(checkpoint.Ordering);
    }
}
