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
            Renderer.Error(console, e.Message);
            return e.ExitCode;
        }
        using var client = new NodeClient(host, token);
        return parsed is ParsedLine.Interactive ? await PromptAsync(client, ct) : await ExecuteAsync(client, parsed, ct);
    }

    private async Task<int> PromptAsync(NodeClient client, CancellationToken ct)
    {
        var prompt = $"[{client.Host}] smartgrid> ";
        var editor = new LineEditor(input, _history);
        console.WriteLine($"smartgrid-cmd connected to {client.Host}: 'help' lists the commands, 'exit' leaves.");
        while (!ct.IsCancellationRequested)
        {
            if (input is not null) console.Write(prompt);
            var line = editor.ReadLine(prompt);
            if (line is null) break; // end of input
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line is "exit" or "quit") break;
            if (line == "history")
            {
                for (var i = 0; i < _history.Count; i++) console.WriteLine($"{i + 1,4}  {_history[i]}");
                _history.Add(line);
                continue;
            }
            // !N runs the N-th command of the history again.
            if (line.StartsWith('!') && int.TryParse(line[1..], out var n))
            {
                if (n < 1 || n > _history.Count)
                {
                    Renderer.Error(console, $"no command {n} in the history ({_history.Count} so far)");
                    continue;
                }
                line = _history[n - 1];
                console.WriteLine(line);
            }
            _history.Add(line);
            var tokens = CommandLineParser.SplitCommandLine(line).ToArray();
            await ExecuteAsync(client, _parser.Parse(tokens), ct);
        }
        return ExitCodes.Ok;
    }

    private async Task<int> ExecuteAsync(NodeClient client, ParsedLine parsed, CancellationToken ct)
    {
        switch (parsed)
        {
            case ParsedLine.Help help:
                Renderer.Help(console, help.Palette);
                return ExitCodes.Ok;
            case ParsedLine.Usage usage:
                Renderer.Error(console, usage.Message);
                return ExitCodes.Usage;
            case ParsedLine.Interactive:
                Renderer.Error(console, "already in the interactive prompt");
                return ExitCodes.Usage;
            case ParsedLine.Run run:
                try
                {
                    if (run.Request.Streams) await TailAsync(client, run.Request, ct);
                    else Renderer.Write(console, await client.RunAsync(run.Request, ct));
                    return ExitCodes.Ok;
                }
                catch (CommandFailedException e)
                {
                    Renderer.Error(console, e.Message);
                    return e.ExitCode;
                }
            default:
                throw new InvalidOperationException($"unexpected parse outcome {parsed}");
        }
    }

    /// <summary>Until Ctrl+C: then back to the prompt (interactive) or out (one command).</summary>
    private async Task TailAsync(NodeClient client, NodeRequest request, CancellationToken ct)
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
            console.WriteLine($"membership of the cluster as {client.Host} sees it; Ctrl+C stops");
            await foreach (var change in client.TailAsync(request, stop.Token)) Renderer.Write(console, change);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
