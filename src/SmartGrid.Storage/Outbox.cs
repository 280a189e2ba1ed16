using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// A table that doubles as the outbox of a topic: how to read its unpublished rows in order
/// (<see cref="PendingSql"/>, without LIMIT), each as a message with its Kafka key and row id, and how
/// to mark a batch of ids published (<see cref="MarkPublishedSql"/>, the ids as $1).
/// </summary>
public sealed record Outbox<TMessage, TId>(
    string PendingSql,
    Func<NpgsqlDataReader, TMessage> Read,
    Func<TMessage, string> Key,
    Func<TMessage, TId> Id,
    string MarkPublishedSql)
{
    /// <summary>The oldest <paramref name="limit"/> unpublished messages, in order.</summary>
    public async Task<IReadOnlyList<TMessage>> PendingAsync(NpgsqlConnection connection, int limit)
    {
        var pending = new List<TMessage>();
        await using var command = Db.Command(connection, null, $"{PendingSql} LIMIT {limit}");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            pending.Add(Read(reader));
        return pending;
    }

    public Task MarkPublishedAsync(NpgsqlConnection connection, IEnumerable<TMessage> published) =>
        Db.ExecuteAsync(connection, null, MarkPublishedSql, published.Select(Id).ToArray());
}
