using Npgsql;

namespace SmartGrid.Storage;

/// <summary>Which entities wrote to the Akka journal around a moment (the journal's <c>created</c> is in UTC ticks, indexed).</summary>
public sealed class JournalRecency(NpgsqlDataSource dataSource)
{
    // Walks the created index from the newest row back to the first of the prefix: the other entities (the sharding
    // coordinators' own state, regions) write as a node starts, and would move the moment past a long stop.
    private const string NewestSql = "SELECT max(created) FROM journal WHERE persistence_id LIKE $1";

    // Rows after the moment belong to the same groups, so an entity written since drops out by its max(created):
    // one range scan of the index finds who went silent at the moment.
    private const string SilentSql = """
        SELECT persistence_id FROM journal
        WHERE created > $1 - $2 AND persistence_id LIKE $3
        GROUP BY persistence_id
        HAVING max(created) <= $1
        """;

    /// <summary>The newest write (UTC ticks) of an entity with the prefix, or null while there is none (or no journal yet).</summary>
    public async Task<long?> NewestWriteAsync(string persistenceIdPrefix, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (!await JournalExistsAsync(conn, ct)) return null;
        await using var cmd = Db.Command(conn, null, NewestSql, Prefix(persistenceIdPrefix));
        return await cmd.ExecuteScalarAsync(ct) is long newest ? newest : null;
    }

    /// <summary>
    /// Persistence ids with the prefix that wrote within <paramref name="horizon"/> before <paramref name="moment"/> (a
    /// <see cref="NewestWriteAsync"/> taken earlier) and have not written since: measured from the journal's newest row and
    /// not from now, so a restart after a long stop still finds who was busy when the last node died, and an entity that
    /// has written again since is alive somewhere and left out.
    /// </summary>
    public async Task<IReadOnlyList<string>> SilentSinceAsync(string persistenceIdPrefix, long moment, TimeSpan horizon, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (!await JournalExistsAsync(conn, ct)) return [];
        await using var cmd = Db.Command(conn, null, SilentSql, Db.Value(moment), Db.Value(horizon.Ticks), Prefix(persistenceIdPrefix));
        var ids = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    private static string Prefix(string persistenceIdPrefix) => persistenceIdPrefix.Replace("_", "\\_").Replace("%", "\\%") + "%";

    private static async Task<bool> JournalExistsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var exists = Db.Command(conn, null, "SELECT to_regclass('journal') IS NOT NULL");
        return await exists.ExecuteScalarAsync(ct) is true;
    }
}
