using SmartGrid.Contracts.Management;

namespace SmartGrid.Node.Management;

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
