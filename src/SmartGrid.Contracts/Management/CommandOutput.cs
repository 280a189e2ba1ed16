using System.Text.Json.Serialization;

namespace SmartGrid.Contracts.Management;

/// <summary>
/// What every management command answers, shared by the node (SmartGrid.Node.Management) and the CLI
/// (SmartGrid.Cmd): tables the CLI prints as they are, and lines of prose. One shape for
/// all commands keeps the CLI a renderer; the column names are the contract scripts and tests read.
/// </summary>
public sealed record CommandOutput(
    [property: JsonPropertyName("tables")] IReadOnlyList<CommandTable> Tables,
    [property: JsonPropertyName("messages")] IReadOnlyList<string> Messages)
{
    public static CommandOutput Of(params CommandTable[] tables) => new(tables, []);
    public static CommandOutput Message(string message) => new([], [message]);
    public CommandOutput With(string message) => this with { Messages = [.. Messages, message] };

    /// <summary>A one-line summary for the audit log.</summary>
    public string Summary() =>
        Messages.Count > 0 ? Messages[0] : string.Join(", ", Tables.Select(t => $"{t.Title}: {t.Rows.Count} row(s)"));
}

public sealed record CommandTable(
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

/// <summary>A line of <c>cluster tail</c>: one membership or reachability change, as it happens.</summary>
public sealed record MembershipChange(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("roles")] string Roles);
