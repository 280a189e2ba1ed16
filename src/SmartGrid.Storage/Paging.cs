using Npgsql;

namespace SmartGrid.Storage;

/// <summary>The one way a list route's page and the count of all its rows are read: in one query.</summary>
public static class Paging
{
    /// <summary>
    /// Adds <paramref name="limit"/> and <paramref name="offset"/> as the command's last two parameters (its SQL ends in
    /// <c>LIMIT $n OFFSET $n+1</c>) and reads the page; each row's last column is <c>count(*) OVER ()</c>, the total
    /// (0 when the page is empty).
    /// </summary>
    public static async Task<(IReadOnlyList<T> Items, long Total)> ReadPageAsync<T>(this NpgsqlCommand cmd, int limit, int offset,
        Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        cmd.Parameters.Add(Db.Value(limit));
        cmd.Parameters.Add(Db.Value(offset));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var items = new List<T>();
        long total = 0;
        while (await reader.ReadAsync(ct))
        {
            items.Add(read(reader));
            total = reader.GetInt64(reader.FieldCount - 1);
        }
        return (items, total);
    }
}
