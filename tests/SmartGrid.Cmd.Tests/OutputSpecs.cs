using System.Diagnostics;
using System.Text.Json;
using SmartGrid.Cmd.Tests.Infrastructure;
using SmartGrid.Contracts.Management;

namespace SmartGrid.Cmd.Tests;

/// <summary>
/// What scripts read: <c>--output json</c> answers every outcome with one JSON document and the exit code, and
/// text is not broken at 80 columns when it goes to a pipe. The tool runs as its own process where the terminal matters.
/// </summary>
public sealed class OutputSpecs
{
    [Fact]
    public async Task Should_answer_every_failure_as_one_json_document_with_the_exit_code()
    {
        var port = FreePort.Next();
        var cases = new (string[] Args, int Code, string Kind, string? Command, string Says)[]
        {
            (["--host", $"127.0.0.1:{port}", "-o", "json", "cluster", "show"], ExitCodes.Unreachable, "unreachable", "cluster show", $"cannot reach node 127.0.0.1:{port}"),
            (["--output", "json", "--host", "127.0.0.1:1", "cluster", "shwo"], ExitCodes.Usage, "usage", "cluster shwo", "Did you mean 'cluster show'?"),
            (["--host", "127.0.0.1:1", "log", "peek", "-n", "x", "--output=json"], ExitCodes.Usage, "usage", "log peek", "Usage: log peek [-n <lines>]"),
            (["-o", "json", "--host", "user@10.0.0.1:9110", "node", "health"], ExitCodes.Usage, "usage", "node health", "is not host:port"),
            (["-o", "json", "help", "nosuch"], ExitCodes.Usage, "usage", "help", "no palette 'nosuch'"),
        };
        foreach (var (args, code, kind, command, says) in cases)
        {
            var console = new RecordingConsole();
            Assert.Equal(code, await new CmdApp(console.Console).RunAsync(args, CancellationToken.None));
            var document = SingleDocument(console.Text);
            Assert.False(document.GetProperty("ok").GetBoolean());
            Assert.Equal(command, document.GetProperty("command").GetString());
            var error = document.GetProperty("error");
            Assert.Equal(kind, error.GetProperty("kind").GetString());
            Assert.Equal(code, error.GetProperty("exit_code").GetInt32());
            Assert.Contains(says, error.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task Should_refuse_an_unknown_output_format_before_anything_else()
    {
        var console = new RecordingConsole();
        Assert.Equal(ExitCodes.Usage, await new CmdApp(console.Console).RunAsync(["--host", "127.0.0.1:1", "-o", "yaml", "cluster", "show"], CancellationToken.None));
        Assert.Contains("--output takes table or json, not 'yaml'", console.Text);
    }

    [Fact]
    public void Should_key_each_row_by_its_column_in_snake_case_with_the_cells_as_sent()
    {
        var output = new StringWriter();
        var table = new CommandTable("singletons", ["singleton", "oldest with role", "running at", "Proxy  Resolves", "", "running at"],
            [["tariff-manager", "akka.tcp://smartgrid@127.0.0.1:4101", "akka.tcp://smartgrid@127.0.0.1:4101", "yes", "*", "x"]]);
        new JsonRenderer(output, "127.0.0.1:9110").Result(new NodeRequest("singleton show", HttpMethod.Get, "singleton/show"),
            new CommandOutput([table], ["1 singleton, <all> found & 'resolved'"]));

        var document = SingleDocument(output.ToString());
        Assert.Equal("singleton show", document.GetProperty("command").GetString());
        Assert.Equal("127.0.0.1:9110", document.GetProperty("host").GetString());
        Assert.True(document.GetProperty("ok").GetBoolean());
        var json = Assert.Single(document.GetProperty("tables").EnumerateArray());
        Assert.Equal("singletons", json.GetProperty("title").GetString());
        Assert.Equal(["singleton", "oldest_with_role", "running_at", "proxy_resolves", "column_5", "running_at_2"],
            json.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        var row = Assert.Single(json.GetProperty("rows").EnumerateArray());
        Assert.Equal("akka.tcp://smartgrid@127.0.0.1:4101", row.GetProperty("running_at").GetString());
        Assert.Equal("yes", row.GetProperty("proxy_resolves").GetString());
        Assert.Equal("x", row.GetProperty("running_at_2").GetString());
        Assert.Equal(["1 singleton, <all> found & 'resolved'"], document.GetProperty("messages").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public void Should_stream_cluster_tail_as_one_json_object_a_line()
    {
        var output = new StringWriter();
        var renderer = new JsonRenderer(output, "127.0.0.1:9110");
        var at = new DateTimeOffset(2026, 12, 6, 22, 43, 1, 632, TimeSpan.Zero);
        renderer.Change(new MembershipChange(at, "MemberUp", "akka.tcp://smartgrid@127.0.0.1:4101", "Up", "gateway,ingest"));
        renderer.Change(new MembershipChange(at.AddSeconds(5), "UnreachableMember", "akka.tcp://smartgrid@127.0.0.1:4102", "Up", "processor"));
        renderer.Note("membership of the cluster as 127.0.0.1:9110 sees it; Ctrl+C stops");

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var second = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("UnreachableMember", second.GetProperty("event").GetString());
        Assert.Equal(at.AddSeconds(5), second.GetProperty("at").GetDateTimeOffset());
        Assert.Equal("akka.tcp://smartgrid@127.0.0.1:4102", second.GetProperty("address").GetString());
        Assert.Equal(["at", "event", "address", "status", "roles"], second.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Should_print_one_json_document_per_command_at_the_prompt_and_no_banner()
    {
        var console = new RecordingConsole();
        var input = new StringReader(string.Join('\n', "help node", "cluster shwo", "history", "!9", "exit"));
        var code = await new CmdApp(console.Console, input).RunAsync(["--host", "127.0.0.1:1", "--output", "json"], CancellationToken.None);

        Assert.Equal(ExitCodes.Ok, code);
        var documents = console.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["help", "cluster shwo", "history", "!9"], documents.Select(d => d.GetProperty("command").GetString()));
        Assert.Equal(["node health", "node config"], documents[0].GetProperty("commands").EnumerateArray().Select(c => c.GetProperty("command").GetString()));
        Assert.Equal("usage", documents[1].GetProperty("error").GetProperty("kind").GetString());
        Assert.Equal(["help node", "cluster shwo"], documents[2].GetProperty("history").EnumerateArray().Select(h => h.GetString()));
        Assert.Contains("no command 9 in the history", documents[3].GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Should_keep_long_lines_whole_in_a_pipe_and_wrap_them_at_COLUMNS()
    {
        // The unreachable error is some 140 characters: the line a pipe used to get broken after 80.
        var port = FreePort.Next();
        var piped = await RunToolAsync(columns: null, "--host", $"127.0.0.1:{port}", "cluster", "show");
        Assert.Equal(ExitCodes.Unreachable, piped.Code);
        var line = Assert.Single(piped.Lines);
        Assert.True(line.Length > 120, line);
        Assert.StartsWith($"error: cannot reach node 127.0.0.1:{port}", line);
        Assert.EndsWith("SmartGrid:Management endpoint on this address?", line);

        var narrow = await RunToolAsync(columns: "60", "--host", $"127.0.0.1:{port}", "cluster", "show");
        Assert.True(narrow.Lines.Count >= 3, string.Join('\n', narrow.Lines));
        Assert.All(narrow.Lines, l => Assert.True(l.Length <= 60, $"{l.Length} columns: {l}"));
        Assert.Equal(line.Split(' '), string.Join(' ', narrow.Lines).Split(' ', StringSplitOptions.RemoveEmptyEntries));

        // Help's table and its options line are wider than 80 columns too.
        var help = await RunToolAsync(columns: null, "help");
        Assert.Contains(help.Lines, l => l.Length > 80 && l.StartsWith("options: --host host:port", StringComparison.Ordinal) && l.EndsWith("--output table|json", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_take_the_width_from_COLUMNS_then_the_terminal_and_leave_a_pipe_unbounded()
    {
        Assert.Equal(132, Terminal.Width("132", redirected: true, () => 80));
        Assert.Equal(132, Terminal.Width("132", redirected: false, () => 80));
        Assert.Equal(100, Terminal.Width(null, redirected: false, () => 100));
        Assert.Equal(Terminal.Unbounded, Terminal.Width(null, redirected: true, () => 80));
        Assert.Equal(Terminal.Unbounded, Terminal.Width("wide", redirected: true, () => 80));
        Assert.Equal(100, Terminal.Width("0", redirected: false, () => 100));
        Assert.Equal(Terminal.Unbounded, Terminal.Width(null, redirected: false, () => throw new IOException("no tty")));
    }

    private static JsonElement SingleDocument(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one document on one line, got: {text}");
        return JsonDocument.Parse(lines[0]).RootElement;
    }

    /// <summary>The built tool as a process of its own, its output into a pipe (as in a script).</summary>
    private static async Task<(int Code, IReadOnlyList<string> Lines)> RunToolAsync(string? columns, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SmartGrid.Cmd.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove(Terminal.ColumnsVariable);
        if (columns is not null) info.Environment[Terminal.ColumnsVariable] = columns;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(await stderr is { Length: 0 }, await stderr);
        return (process.ExitCode, (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList());
    }
}
