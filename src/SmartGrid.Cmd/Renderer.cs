using SmartGrid.Contracts.Management;
using Spectre.Console;

namespace SmartGrid.Cmd;

/// <summary>Prints the node's answers: each table as a Spectre table, each message as a plain line.</summary>
internal static class Renderer
{
    public static void Write(IAnsiConsole console, CommandOutput output)
    {
        foreach (var table in output.Tables)
        {
            var t = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(table.Title));
            foreach (var column in table.Columns) t.AddColumn(new TableColumn(Markup.Escape(column)));
            foreach (var row in table.Rows) t.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
            if (table.Rows.Count == 0) console.WriteLine($"{table.Title}: none");
            else console.Write(t);
        }
        foreach (var message in output.Messages) console.WriteLine(message);
    }

    public static void Write(IAnsiConsole console, MembershipChange change) =>
        console.WriteLine($"{change.At:HH:mm:ss.fff} {change.Event,-20} {change.Address} {change.Status} [{change.Roles}]");

    public static void Error(IAnsiConsole console, string message) =>
        console.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");

    public static void Help(IAnsiConsole console, string? palette)
    {
        var commands = CommandCatalog.All.Where(c => palette is null || c.Palette == palette).ToList();
        if (commands.Count == 0)
        {
            Error(console, $"no palette '{palette}'; palettes: {string.Join(", ", CommandCatalog.Palettes)}");
            return;
        }
        var t = new Table().Border(TableBorder.Simple).AddColumn("command").AddColumn("what it does");
        foreach (var c in commands) t.AddRow(new Text(c.Usage), new Text(c.Description));
        console.Write(t);
        console.WriteLine($"options: --host host:port (default {CommandParser.DefaultHost}, ${CommandParser.HostVariable}), --token T (${CommandParser.TokenVariable})");
        console.WriteLine("interactive prompt: run without a command; 'history', 'help', 'exit'; up/down arrows recall earlier commands");
    }
}
