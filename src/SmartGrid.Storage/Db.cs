using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// Positional parameters by value ($1, $2… in order), for the stores' hand-written statements: a null is
/// DBNull and a timestamp is sent as UTC, which Npgsql requires of timestamptz. A value wrapped in <see cref="Typed"/> keeps its
/// type when null.
/// </summary>
public static class Db
{
    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
            command.Parameters.Add(Parameter(value));
        return command;
    }

    /// <summary>Several statements, each with its values as <see cref="Command"/> takes them, sent in one round trip.</summary>
    public static NpgsqlBatch Batch(NpgsqlConnection connection, NpgsqlTransaction? transaction, params (string Sql, object?[] Values)[] statements)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (sql, values) in statements)
        {
            var command = new NpgsqlBatchCommand(sql);
            foreach (var value in values)
                command.Parameters.Add(Parameter(value));
            batch.BatchCommands.Add(command);
        }
        return batch;
    }

    public static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object?[] values)
    {
        await using var command = Command(connection, transaction, sql, values);
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A value sent with its PostgreSQL type even when null: a bare null has no type, which PostgreSQL accepts only where the
    /// statement gives the parameter one (a cast, a column it is compared with).
    /// </summary>
    public static NpgsqlParameter Typed(object? value, NpgsqlDbType type) => new() { Value = Normalize(value), NpgsqlDbType = type };

    public static T? Get<T>(this NpgsqlDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? default : reader.GetFieldValue<T>(ordinal);
    }

    private static NpgsqlParameter Parameter(object? value) => value as NpgsqlParameter ?? new NpgsqlParameter { Value = Normalize(value) };

    /// <summary>timestamptz parameters must be UTC for Npgsql.</summary>
    private static object Normalize(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset d => d.ToUniversalTime(),
        _ => value,
    };

    /// <summary>A stable id derived from content (for messages that carry none).</summary>
    public static Guid ContentId(string content)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(content), hash);
        return new Guid(hash[..16]);
    }
}
