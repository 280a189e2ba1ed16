using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>Small helpers for positional parameters.</summary>
internal static class Sql
{
    public static NpgsqlParameter Array<T>(T[] values, NpgsqlDbType elementType) =>
        new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | elementType };

    public static NpgsqlParameter Value<T>(T value) => new NpgsqlParameter<T> { TypedValue = value };
}
