using System.CommandLine.Parsing;
using Spectre.Console;

namespace SmartGrid.Cmd;

/// <summary>
/// smartgrid-cmd: one command against one node (<c>smartgrid-cmd --host 127.0.0.1:9110 cluster show</c>), or,
/// without a command, the interactive prompt <c>[127.0.0.1:9110] smartgrid&gt;</c> with history and help.
/// </summary>
internal sealed class CmdApp(IAnsiConsole console, TextReader? input = null)
{
    private readonly CommandParser _parser = new();
    private readonly List<string> _history = [];

    public IReadOnlyList<string> History => _history;

    public async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        OutputFormat format;
        try
        {
            format = _parser.Format(args);
        }
        catch (CommandFailedException e)
        {
            // Which format was wanted is unknown: people's, and scripts see the exit code.
            new Renderer(console).Error(null, e.Message, e.ExitCode);
            return e.ExitCode;
        }
        var parsed = _parser.Parse(args);
        string host;
        string? token;
        try
        {
            (host, token) = _parser.Connection(args);
            host = NodeClient.NormalizeHost(host);
        }
        catch (CommandFailedException e)
        {
            Renderer.For(format, console, host: null).Error(CommandName(parsed), e.Message, e.ExitCode);
            return e.ExitCode;
        }
        var renderer = Renderer.For(format, console, host);
        using var client = new NodeClient(host, token);
        return parsed is ParsedLine.Interactive ? await PromptAsync(client, renderer, ct) : await ExecuteAsync(client, renderer, parsed, ct);
    }

    private async Task<int> PromptAsync(NodeClient client, IRenderer renderer, CancellationToken ct)
    {
        var prompt = $"[{client.Host}] smartgrid> ";
        var editor = new LineEditor(input, _history);
        renderer.Note($"smartgrid-cmd connected to {client.Host}: 'help' lists the commands, 'exit' leaves.");
        while (!ct.IsCancellationRequested)
        {
            if (input is not null && renderer is Renderer) console.Write(prompt);
            var line = editor.ReadLine(prompt);
            if (line is null) break; // end of input
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line is "exit" or "quit") break;
            if (line == "history")
            {
                renderer.History(_history);
                _history.Add(line);
                continue;
            }
            // !N runs the N-th command of the history again.
            if (line.StartsWith('!') && int.TryParse(line[1..], out var n))
            {
                if (n < 1 || n > _history.Count)
                {
                    renderer.Error(line, $"no command {n} in the history ({_history.Count} so far)", ExitCodes.Usage);
                    continue;
                }
                line = _history[n - 1];
                renderer.Note(line);
            }
            _history.Add(line);
            var tokens = CommandLineParser.SplitCommandLine(line).ToArray();
            await ExecuteAsync(client, renderer, _parser.Parse(tokens), ct);
        }
        return ExitCodes.Ok;
    }

    private static async Task<int> ExecuteAsync(NodeClient client, IRenderer renderer, ParsedLine parsed, CancellationToken ct)
    {
        switch (parsed)
        {
            case ParsedLine.Help help:
                if (CommandCatalog.InPalette(help.Palette) is not { Count: > 0 } commands)
                {
                    renderer.Error("help", CommandCatalog.UnknownPalette(help.Palette!), ExitCodes.Usage);
                    return ExitCodes.Usage;
                }
                renderer.Help(commands);
                return ExitCodes.Ok;
            case ParsedLine.Usage usage:
                renderer.Error(usage.Command, usage.Message, ExitCodes.Usage);
                return ExitCodes.Usage;
            case ParsedLine.Interactive:
                renderer.Error(null, "already in the interactive prompt", ExitCodes.Usage);
                return ExitCodes.Usage;
            case ParsedLine.Run run:
                try
                {
                    if (run.Request.Streams) await TailAsync(client, renderer, run.Request, ct);
                    else renderer.Result(run.Request, await client.RunAsync(run.Request, ct));
                    return ExitCodes.Ok;
                }
                catch (CommandFailedException e)
                {
                    renderer.Error(run.Request.Command, e.Message, e.ExitCode);
                    return e.ExitCode;
                }
            default:
                throw new InvalidOperationException($"unexpected parse outcome {parsed}");
        }
    }

    private static string? CommandName(ParsedLine parsed) => parsed switch
    {
        ParsedLine.Run run => run.Request.Command,
        ParsedLine.Usage usage => usage.Command,
        ParsedLine.Help => "help",
        _ => null,
    };

    /// <summary>Until Ctrl+C: then back to the prompt (interactive) or out (one command).</summary>
    private static async Task TailAsync(NodeClient client, IRenderer renderer, NodeRequest request, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            renderer.Note($"membership of the cluster as {client.Host} sees it; Ctrl+C stops");
            await foreach (var change in client.TailAsync(request, stop.Token)) renderer.Change(change);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
