using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace SmartGrid.Testing;

/// <summary>
/// A SmartGrid node in its own OS process (<c>dotnet SmartGrid.Node.dll</c>, built with the same configuration
/// as this test assembly), so it can be killed with SIGKILL without taking the test, the embedded broker or
/// the database with it. Its stdout and stderr go to a log file whose tail a failing test prints.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly object _gate = new();
    private readonly StringBuilder _recent = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _logClosed;

    private NodeProcess(Process process, string logFile, StreamWriter log)
    {
        _process = process;
        LogFile = logFile;
        _log = log;
    }

    public string LogFile { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The checkout this test assembly was built from (the folder of SmartGrid.Actors.sln).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SmartGrid.Actors.sln")))
            dir = dir.Parent;
        return dir?.FullName
               ?? throw new InvalidOperationException($"SmartGrid.Actors.sln not found above {AppContext.BaseDirectory}: cannot locate SmartGrid.Node");
    }

    /// <summary>The node's dll for this test run's configuration, or a failure that says how to build it.</summary>
    public static string NodeDll()
    {
        var configuration = typeof(NodeProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(RepositoryRoot(), "src", "SmartGrid.Node", "bin", configuration, "net10.0", "SmartGrid.Node.dll");
        if (!File.Exists(dll))
            throw new InvalidOperationException(
                $"{dll} is missing: build it first (building the solution, or a test project that references the node, builds it too)");
        return dll;
    }

    /// <summary>Starts <c>dotnet SmartGrid.Node.dll args...</c> in the dll's folder (appsettings.json, hocon/).</summary>
    public static NodeProcess Start(IEnumerable<string> args, string logFile)
    {
        var dll = NodeDll();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        // The child reads its configuration from the command line only.
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return StartLogged(info, logFile);
    }

    /// <summary>
    /// Starts a script of the checkout (e.g. <c>./build.sh run</c>) in the repository root with extra environment
    /// variables: the whole process tree a developer would start, logged like a node.
    /// </summary>
    public static NodeProcess StartScript(string script, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logFile)
    {
        var root = RepositoryRoot();
        var info = new ProcessStartInfo(Path.Combine(root, script))
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        return StartLogged(info, logFile);
    }

    private static NodeProcess StartLogged(ProcessStartInfo info, string logFile)
    {
        // Plain console lines make the log greppable.
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";

        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var log = new StreamWriter(logFile, append: true, Encoding.UTF8) { AutoFlush = true };
        log.WriteLine($"### {DateTime.Now:HH:mm:ss.fff} {info.FileName} {string.Join(' ', info.ArgumentList)}");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(process, logFile, log);
        process.OutputDataReceived += (_, e) => node.Append(e.Data, node._stdoutClosed);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data, node._stderrClosed);
        if (!process.Start()) throw new InvalidOperationException($"{info.FileName} did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private void Append(string? line, TaskCompletionSource closed)
    {
        if (line is null) { closed.TrySetResult(); return; }
        lock (_gate)
        {
            _recent.AppendLine(line);
            if (!_logClosed) _log.WriteLine(line);
        }
    }

    /// <summary>Waits until the log shows <paramref name="text"/>; fails early if the process exits first.</summary>
    public Task WaitForLogAsync(string text, TimeSpan timeout) =>
        WaitForLogAsync(log => log.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout);

    /// <summary>Waits until a line of the log matches <paramref name="pattern"/>; fails early if the process exits first.</summary>
    public Task WaitForLogAsync(System.Text.RegularExpressions.Regex pattern, TimeSpan timeout) =>
        WaitForLogAsync(pattern.IsMatch, $"a line matching /{pattern}/", timeout);

    private async Task WaitForLogAsync(Func<string, bool> shows, string what, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_gate)
                if (shows(_recent.ToString())) return;
            if (_process.HasExited)
            {
                // Its last lines may still be in the pipes: read them to the end before deciding.
                await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(TimeSpan.FromSeconds(5)));
                lock (_gate)
                    if (shows(_recent.ToString())) return;
                throw new InvalidOperationException($"node process {Id} exited with code {_process.ExitCode} before its log showed {what}");
            }
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"node process {Id} did not log {what} within {timeout}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The line a processor logs once it is Up beside <paramref name="processors"/> - 1 others, all Up, whichever raw_readings
    /// partitions the cluster gives it (an even share; none only when there are more processors than partitions).
    /// </summary>
    public static System.Text.RegularExpressions.Regex ReadingPartitions(int processors) =>
        new($@"telemetry partitions: reading \[[^\]\n]*\][^\n]*processors {string.Join(", ", Enumerable.Repeat(@"\S+ Up", processors))}(;|\r?$)",
            System.Text.RegularExpressions.RegexOptions.Multiline);

    /// <summary>SIGKILL (no shutdown hooks, no flush, no goodbye to the cluster or the consumer group), then waits until it is gone.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        _process.Kill(entireProcessTree: true);
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>This process and every descendant (from /proc: each process's parent), root first.</summary>
    public IReadOnlyList<int> ProcessTree()
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1]);
            }
            catch (IOException)
            {
                // Gone while we looked.
            }
        }
        var tree = new List<int> { Id };
        for (var i = 0; i < tree.Count; i++)
            tree.AddRange(parents.Where(p => p.Value == tree[i]).Select(p => p.Key));
        return tree;
    }

    /// <summary>
    /// SIGKILL to every process of the tree at once (collected first, so none is re-parented away),
    /// then waits until each is gone; returns the pids killed.
    /// </summary>
    public async Task<IReadOnlyList<int>> KillTreeAsync(TimeSpan timeout)
    {
        var tree = ProcessTree();
        foreach (var pid in tree)
        {
            try { Process.GetProcessById(pid).Kill(); }
            catch (ArgumentException) { } // already gone
            catch (InvalidOperationException) { }
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        while (tree.Any(pid => Directory.Exists($"/proc/{pid}") && !IsZombie(pid)))
            await Task.Delay(50, cts.Token);
        return tree;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>The last lines the node wrote.</summary>
    public string Tail(int lines = 60)
    {
        string text;
        lock (_gate) text = _recent.ToString();
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        // Let the readers drain what the process wrote before it died.
        Task.WaitAll([_stdoutClosed.Task, _stderrClosed.Task], TimeSpan.FromSeconds(5));
        lock (_gate)
        {
            _logClosed = true;
            _log.Dispose();
        }
        _process.Dispose();
    }
}
