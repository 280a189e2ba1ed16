using SmartGrid.Contracts.Management;
using Spectre.Console;

namespace SmartGrid.Cmd;

internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>How the tool prints what happened: tables for people (<see cref="Renderer"/>), JSON for scripts (<see cref="JsonRenderer"/>).</summary>
internal interface IRenderer
{
    void Result(NodeRequest request, CommandOutput output);

    /// <summary>One line of <c>cluster tail</c>, as it happens.</summary>
    void Change(MembershipChange change);

    /// <summary>Why a command did not run; <paramref name="command"/> is null when the line named none.</summary>
    void Error(string? command, string message, int exitCode);

    void Help(IReadOnlyList<CommandSpec> commands);
    void History(IReadOnlyList<string> history);

    /// <summary>A line for a person at the prompt (a banner, "Ctrl+C stops"), not part of any command's answer.</summary>
    void Note(string line);
}

/// <summary>Prints the node's answers: each table as a Spectre table, each message as a plain line.</summary>
internal sealed class Renderer(IAnsiConsole console) : IRenderer
{
    public static IRenderer For(OutputFormat format, IAnsiConsole console, string? host) =>
        format == OutputFormat.Json ? new JsonRenderer(console.Profile.Out.Writer, host) : new Renderer(console);

    public void Result(NodeRequest request, CommandOutput output)
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

    public void Change(MembershipChange change) =>
        console.WriteLine($"{change.At:HH:mm:ss.fff} {change.Event,-20} {change.Address} {change.Status} [{change.Roles}]");

    public void Error(string? command, string message, int exitCode) =>
        console.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");

    public void Help(IReadOnlyList<CommandSpec> commands)
    {
        var t = new Table().Border(TableBorder.Simple).AddColumn("command").AddColumn("what it does");
        foreach (var c in commands) t.AddRow(new Text(c.Usage), new Text(c.Description));
        console.Write(t);
        console.WriteLine($"options: --host host:port (default {CommandParser.DefaultHost}, ${CommandParser.HostVariable}), --token T (${CommandParser.TokenVariable}), --output table|json");
        console.WriteLine("interactive prompt: run without a command; 'history', 'help', 'exit'; up/down arrows recall earlier commands");
    }

    public void History(IReadOnlyList<string> history)
    {
        for (var i = 0; i < history.Count; i++) console.WriteLine($"{i + 1,4}  {history[i]}");
    }

    public void Note(string line) => console.WriteLine(line);
}
