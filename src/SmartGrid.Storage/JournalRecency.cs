using Npgsql;

namespace SmartGrid.Storage;

/// <summary>Which entities wrote to the Akka journal shortly before its newest write (the journal's <c>created</c> is in UTC ticks, indexed).</summary>
public sealed class JournalRecency(NpgsqlDataSource dataSource)
{
    private const string Sql = """
        SELECT DISTINCT persistence_id FROM journal
        WHERE created > (SELECT max(created) FROM journal) - $1 AND persistence_id LIKE $2
        """;

    /// <summary>
    /// Persistence ids with the prefix that wrote within <paramref name="horizon"/> of the journal's
    /// newest row: measured from that row and not from now, so a restart after a long stop still
    /// finds who was busy when the last node died.
    /// </summary>
    public async Task<IReadOnlyList<string>> WrittenBeforeNewestAsync(string persistenceIdPrefix, TimeSpan horizon, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('journal') IS NOT NULL", conn))
            if (await exists.ExecuteScalarAsync(ct) is not true) return [];
        await using var cmd = new NpgsqlCommand(Sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = horizon.Ticks });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = persistenceIdPrefix.Replace("_", "\\_").Replace("%", "\\%") + "%" });
        var ids = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }
}
