using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// One multi-row UPSERT in one statement: each column travels as one typed array (unnest), so a batch
/// costs one round trip and one plan whatever its size. The key columns identify a row; every other
/// column, and updated_at, is replaced by the newer version (only where the stored row meets
/// <see cref="OnlyWhere"/>'s condition, when one is given).
/// </summary>
internal sealed class UnnestUpsert<TRow>(IReadOnlyList<TRow> rows)
{
    private readonly List<(string Name, string PgType, bool Key, NpgsqlParameter Values)> _columns = [];
    private string? _onlyWhere;

    public UnnestUpsert<TRow> Key<TValue>(string name, string pgType, NpgsqlDbType type, Func<TRow, TValue> value) =>
        Add(name, pgType, type, value, key: true);

    public UnnestUpsert<TRow> Column<TValue>(string name, string pgType, NpgsqlDbType type, Func<TRow, TValue> value) =>
        Add(name, pgType, type, value, key: false);

    /// <summary>A stored row (alias <c>t</c>) is replaced only while it meets <paramref name="condition"/>, e.g. an event not yet ended.</summary>
    public UnnestUpsert<TRow> OnlyWhere(string condition)
    {
        _onlyWhere = condition;
        return this;
    }

    /// <summary>The statement; <paramref name="table"/> comes from the closed <see cref="TimeSeriesTable"/> set, never from input.</summary>
    public NpgsqlBatchCommand Build(TimeSeriesTable table) => Build(table.Name);

    /// <summary>The statement for a table that is not a time series; <paramref name="table"/> is a name written in this assembly, never input.</summary>
    public NpgsqlBatchCommand Build(string table)
    {
        var names = string.Join(", ", _columns.Select(c => c.Name));
        var arrays = string.Join(", ", _columns.Select((c, i) => $"${i + 1}::{c.PgType}[]"));
        var keys = string.Join(", ", _columns.Where(c => c.Key).Select(c => c.Name));
        var updates = string.Join(",\n    ", _columns.Where(c => !c.Key).Select(c => $"{c.Name} = EXCLUDED.{c.Name}").Append("updated_at = EXCLUDED.updated_at"));
        return Db.Statement(
            $"""
            INSERT INTO {table} AS t ({names}, updated_at)
            SELECT u.*, now() FROM unnest({arrays}) AS u
            ON CONFLICT ({keys}) DO UPDATE SET
                {updates}
            {(_onlyWhere is null ? "" : "WHERE " + _onlyWhere)}
            """,
            [.. _columns.Select(c => c.Values)]);
    }

    private UnnestUpsert<TRow> Add<TValue>(string name, string pgType, NpgsqlDbType type, Func<TRow, TValue> value, bool key)
    {
        var values = new TValue[rows.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = value(rows[i]);
        _columns.Add((name, pgType, key, Db.Array(values, type)));
        return this;
    }
}
