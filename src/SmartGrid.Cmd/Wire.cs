using System.Text.Json.Serialization;

namespace SmartGrid.Cmd;

// The node's answers (SmartGrid.Node.Management.CommandOutput and friends): tables and lines of prose.

internal sealed record CommandOutput(
    [property: JsonPropertyName("tables")] IReadOnlyList<CommandTable> Tables,
    [property: JsonPropertyName("messages")] IReadOnlyList<string> Messages);

internal sealed record CommandTable(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("columns")] IReadOnlyList<string> Columns,
    [property: JsonPropertyName("rows")] IReadOnlyList<IReadOnlyList<string>> Rows)
{
    /// <summary>The cells of one column, by its name (the column names are the contract).</summary>
    public IEnumerable<string> Column(string name)
    {
        var i = Columns.ToList().IndexOf(name);
        if (i < 0) throw new ArgumentException($"table '{Title}' has no column '{name}' (it has {string.Join(", ", Columns)})");
        return Rows.Select(r => r[i]);
    }
}

internal sealed record MembershipChange(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("roles")] string Roles);

/// <summary>RFC 7807 problem details as the node sends them.</summary>
internal sealed record Problem(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("status")] int? Status);
