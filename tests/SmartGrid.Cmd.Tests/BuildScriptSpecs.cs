using System.Diagnostics;
using System.Text.Json;
using SmartGrid.Cmd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SmartGrid.Cmd.Tests;

/// <summary>
/// <c>./build.sh run</c> as a developer types it, with settings in the README's form: every word reaches the node
/// as typed (PowerShell used to split <c>--SmartGrid:X=Y</c> into two and the node silently ignored the setting),
/// and the node runs as the script's own child, with no <c>dotnet run</c> wrapper beside it.
/// </summary>
public sealed partial class BuildScriptSpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = "build-script-spec-token-0123456789";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(300);

    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"sg-buildscript-{Guid.NewGuid():N}");
    private readonly int _managementPort = FreePort.Next();
    private TestDatabase _database = null!;
    private NodeProcess? _run;
    private bool _passed;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync("sg_buildscript");

    [Fact]
    public async Task Should_hand_the_node_every_argument_untouched_and_run_it_without_a_dotnet_run_wrapper()
    {
        // What PowerShell would have taken for its own syntax: '-Name:value', quotes, a '$', a lone '-o'.
        const string note = "two words, 'single' \"double\" $HOME -o:x";
        var clusterPort = FreePort.Next();
        _run = NodeProcess.StartScript("build.sh", ["run", "--SmartGrid:Simulator:Meters=1234", $"--SmartGrid:Spec:Note={note}", "--SmartGrid:Spec:Flag", "-o"],
            new Dictionary<string, string>
            {
                ["SMARTGRID_DATABASE"] = _database.Name,
                ["SmartGrid__Http__IngestPort"] = FreePort.Next().ToString(),
                ["SmartGrid__Http__GatewayPort"] = FreePort.Next().ToString(),
                ["SmartGrid__Cluster__Port"] = clusterPort.ToString(),
                ["SmartGrid__Management__Port"] = _managementPort.ToString(),
                ["SmartGrid__Management__Token"] = Token,
                ["SmartGrid__Simulator__Enabled"] = "false",
                ["SMARTGRID_MAIL_SINK"] = "off", // a detached smtp4dev would outlive the killed tree
                ["MSBUILDDISABLENODEREUSE"] = "1",
                ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "false",
                ["UseSharedCompilation"] = "false",
            }, Path.Combine(_logDir, "run.log"));

        var config = await NodeConfigAsync(_run);
        Assert.Equal("1234", config["SmartGrid:Simulator:Meters"]);
        Assert.Equal(note, config["SmartGrid:Spec:Note"]);
        // '--key' followed by a word that is not an option takes that word as its value, as .NET reads a command line.
        Assert.Equal("-o", config["SmartGrid:Spec:Flag"]);

        // One timestamp a line, Akka's lines included (they carried Akka's own behind the logger's): in log peek
        // through the tool, and on the run's console.
        var peek = await ToolAsync("log", "peek", "-n", "2000");
        var lines = peek.GetProperty("messages").EnumerateArray().Select(m => m.GetString()!).ToList();
        // Akka's message with its arguments in place, under its logging class, after the one timestamp.
        Assert.Contains(lines, l => l.Contains(" info Akka.", StringComparison.Ordinal) &&
                                    l.Contains($"Remoting started; listening on addresses : [akka.tcp://smartgrid@127.0.0.1:{clusterPort}]", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(Timestamps(l) == 1, $"{Timestamps(l)} timestamps: {l}"));
        var console = File.ReadAllLines(_run.LogFile).Where(l => l.Contains(": Akka.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(console);
        Assert.All(console, l => Assert.True(Timestamps(l) == 1, $"{Timestamps(l)} timestamps: {l}"));

        var tree = _run.ProcessTree().Select(pid => (Pid: pid, Command: CommandLine(pid), RssMb: RssMb(pid))).Where(p => p.Command.Length > 0).ToList();
        foreach (var p in tree) output.WriteLine($"{p.Pid,7} {p.RssMb,6:0} MB  {p.Command}");
        Assert.DoesNotContain(tree, p => p.Command.Contains(" run --project", StringComparison.Ordinal) || p.Command.Contains("MSBuild.dll", StringComparison.Ordinal));
        var node = Assert.Single(tree, p => p.Command.Contains("SmartGrid.Node.dll", StringComparison.Ordinal));
        Assert.Contains("--SmartGrid:Simulator:Meters=1234", node.Command);
        output.WriteLine($"run tree: {tree.Count} processes, {tree.Sum(p => p.RssMb):0} MB resident; the node {node.RssMb:0} MB");
        _passed = true;
    }

    [Fact]
    public async Task Should_run_the_SRE_tool_from_build_sh_compiled_ahead_with_its_options_untouched_and_only_json_on_stdout()
    {
        // Options PowerShell would have taken for build.ps1's own (-o), an exit code to pass through (3: unreachable).
        var (code, stdout, stderr) = await ScriptAsync("cmd", "--", "--host", "127.0.0.1:1", "--token", Token, "cluster", "show", "-o", "json");
        Assert.True(code == ExitCodes.Unreachable, $"exit {code}\n{stdout}\n{stderr}");
        var document = JsonDocument.Parse(Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        Assert.Equal(("cluster show", "unreachable"), (document.GetProperty("command").GetString(), document.GetProperty("error").GetProperty("kind").GetString()));

        // What ./build.sh cmd runs is ReadyToRun: native code beside the IL, so the tool's start JIT-compiles little.
        var tool = Path.Combine(NodeProcess.RepositoryRoot(), "src", "SmartGrid.Cmd", "bin", "ready", "SmartGrid.Cmd.dll");
        using (var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(tool)))
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{tool} is not ReadyToRun");

        // A second command finds the tool fresh: no publish, nothing on stderr.
        (code, stdout, stderr) = await ScriptAsync("cmd", "--", "help", "-o", "json");
        Assert.True(code == ExitCodes.Ok && stderr.Length == 0, $"exit {code}\n{stderr}");
        Assert.True(JsonDocument.Parse(stdout).RootElement.GetProperty("ok").GetBoolean());
    }

    /// <summary>./build.sh with <paramref name="args"/> in the repository root, stdout and stderr apart.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> ScriptAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(NodeProcess.RepositoryRoot(), "build.sh"))
        {
            WorkingDirectory = NodeProcess.RepositoryRoot(), RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "false";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The node's effective configuration through the SRE tool's JSON, once its command endpoint answers.</summary>
    private async Task<Dictionary<string, string>> NodeConfigAsync(NodeProcess run)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (true)
        {
            Assert.False(run.HasExited, $"./build.sh run exited (code {(run.HasExited ? run.ExitCode : 0)}) before the node answered:\n{run.Tail()}");
            Assert.True(clock.Elapsed < ReadyTimeout, $"the node of ./build.sh run did not answer 'node config' within {ReadyTimeout}; last: {last}\n{run.Tail()}");
            var (code, text) = await ToolTextAsync("node", "config");
            last = text;
            if (code == ExitCodes.Ok)
            {
                output.WriteLine($"./build.sh run answered 'node config' after {clock.Elapsed.TotalSeconds:0.0} s");
                var table = JsonDocument.Parse(text).RootElement.GetProperty("tables")[0];
                return table.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("value").GetString()!);
            }
            await Task.Delay(500);
        }
    }

    private async Task<JsonElement> ToolAsync(params string[] command)
    {
        var (code, text) = await ToolTextAsync(command);
        Assert.True(code == ExitCodes.Ok, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private async Task<(int Code, string Text)> ToolTextAsync(params string[] command)
    {
        var console = new RecordingConsole();
        var code = await new CmdApp(console.Console).RunAsync(
            ["--host", $"127.0.0.1:{_managementPort}", "--token", Token, "--output", "json", .. command], CancellationToken.None);
        return (code, console.Text);
    }

    /// <summary>Times of day to the millisecond in a line (22:43:01.632, Akka's "[12/06/2026 22:43:01.632Z]" too); not durations (00:00:05).</summary>
    private static int Timestamps(string line) => TimeOfDay().Count(line);

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<![\d:])\d{2}:\d{2}:\d{2}\.\d{3}(?!\d)")]
    private static partial System.Text.RegularExpressions.Regex TimeOfDay();

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static double RssMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public async Task DisposeAsync()
    {
        if (_run is not null)
        {
            if (!_passed) output.WriteLine($"--- ./build.sh run, log {_run.LogFile}:\n{_run.Tail()}");
            if (!_run.HasExited) await _run.KillTreeAsync(TimeSpan.FromSeconds(20));
            _run.Dispose();
        }
        if (_passed && Directory.Exists(_logDir)) Directory.Delete(_logDir, recursive: true);
        if (_database is not null) await _database.DisposeAsync();
    }
}
