using System.Text.Json.Serialization;

namespace SmartGrid.Node.Management;

/// <summary>
/// What every command answers: tables the CLI prints as they are, and lines of prose. One shape for
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
    [property: JsonPropertyName("rows")] IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>A line of <c>cluster tail</c>: one membership or reachability change, as it happens.</summary>
public sealed record MembershipChange(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("event")] string Event,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("roles")] string Roles);

/// <summary>Building a table row by row without repeating the column list.</summary>
public sealed class TableBuilder(string title, params string[] columns)
{
    private readonly List<IReadOnlyList<string>> _rows = [];

    public TableBuilder Row(params object?[] cells)
    {
        if (cells.Length != columns.Length)
            throw new ArgumentException($"table '{title}' has {columns.Length} columns, row has {cells.Length}");
        _rows.Add(cells.Select(c => c switch
        {
            null => "",
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => c.ToString() ?? "",
        }).ToList());
        return this;
    }

    public CommandTable Build() => new(title, columns, _rows);
}
