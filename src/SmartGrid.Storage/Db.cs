using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// The one way the stores pass parameters: positional, by value ($1, $2… in order). A null is DBNull and a timestamp is
/// sent as UTC, which Npgsql requires of timestamptz. A value that is already a parameter is sent as it is: <see cref="Typed"/>
/// keeps a null's type, <see cref="Array{T}"/> names an array's element type, and <see cref="Value{T}"/> sends a value type
/// without boxing it (for the hot paths). The values travel as a span, so a call allocates no array for them.
/// </summary>
public static class Db
{
    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params ReadOnlySpan<object?> values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        Add(command.Parameters, values);
        return command;
    }

    /// <summary>A command that takes a pooled connection for its execution only (<see cref="NpgsqlDataSource.CreateCommand"/>).</summary>
    public static NpgsqlCommand Command(NpgsqlDataSource dataSource, string sql, params ReadOnlySpan<object?> values)
    {
        var command = dataSource.CreateCommand(sql);
        Add(command.Parameters, values);
        return command;
    }

    /// <summary>Several statements, each with its values as <see cref="Command(NpgsqlConnection, NpgsqlTransaction?, string, ReadOnlySpan{object?})"/> takes them, sent in one round trip.</summary>
    public static NpgsqlBatch Batch(NpgsqlConnection connection, NpgsqlTransaction? transaction, params (string Sql, object?[] Values)[] statements)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (sql, values) in statements)
            batch.BatchCommands.Add(Statement(sql, values));
        return batch;
    }

    /// <summary>One statement of a batch that its caller assembles.</summary>
    public static NpgsqlBatchCommand Statement(string sql, params ReadOnlySpan<object?> values)
    {
        var command = new NpgsqlBatchCommand(sql);
        // A batch command makes its parameter collection on first use: a statement without values needs none.
        if (!values.IsEmpty)
            Add(command.Parameters, values);
        return command;
    }

    public static Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params ReadOnlySpan<object?> values) =>
        ExecuteAsync(Command(connection, transaction, sql, values));

    /// <summary>
    /// A value sent with its PostgreSQL type even when null: a bare null has no type, which PostgreSQL accepts only where the
    /// statement gives the parameter one (a cast, a column it is compared with).
    /// </summary>
    public static NpgsqlParameter Typed(object? value, NpgsqlDbType type) => new() { Value = Normalize(value), NpgsqlDbType = type };

    /// <summary>A text that may be null (an optional filter, a column a user may leave empty).</summary>
    public static NpgsqlParameter Text(string? value) => Typed(value, NpgsqlDbType.Text);

    /// <summary>An array of <paramref name="elementType"/>, typed also when null.</summary>
    public static NpgsqlParameter Array<T>(T[]? values, NpgsqlDbType elementType) => Typed(values, NpgsqlDbType.Array | elementType);

    /// <summary>
    /// A value sent as <typeparamref name="T"/> without boxing (the hot paths' parameters). Unlike a bare value it is not
    /// normalised: a timestamp must already be UTC.
    /// </summary>
    public static NpgsqlParameter<T> Value<T>(T value) => new() { TypedValue = value };

    /// <summary>A value sent as <typeparamref name="T"/> with its PostgreSQL type, without boxing (e.g. a payload as bytea).</summary>
    public static NpgsqlParameter<T> Value<T>(T value, NpgsqlDbType type) => new() { TypedValue = value, NpgsqlDbType = type };

    public static T? Get<T>(this NpgsqlDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? default : reader.GetFieldValue<T>(ordinal);
    }

    private static async Task<int> ExecuteAsync(NpgsqlCommand command)
    {
        await using (command)
            return await command.ExecuteNonQueryAsync();
    }

    private static void Add(NpgsqlParameterCollection parameters, ReadOnlySpan<object?> values)
    {
        foreach (var value in values)
            parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = Normalize(value) });
    }

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
