using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Pipeline;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Crash;

/// <summary>
/// The issue's crash, exactly as a developer meets it: <c>./build.sh run</c> (build.sh → dotnet tool run → pwsh → node,
/// with the broker inside the node), readings about 2 hours old for 4 meters with duplicates and disorder posted to
/// ingestion, <c>kill -9</c> of every process of that tree right after the last acknowledgement, and
/// <c>./build.sh run</c> again. Every acknowledged reading must then be counted exactly once: each expected
/// 1-minute and 15-minute row (and the regional ones) equals the truth.
/// </summary>
public sealed class BuildRunCrashSpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan TruthDeadline = TimeSpan.FromSeconds(120);
    private const int BatchSize = 48;

    private readonly List<NodeProcess> _runs = [];
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"sg-buildrun-{Guid.NewGuid():N}");
    private readonly int _ingestPort = FreePort.Next();
    private TestDatabase _database = null!;
    private Dictionary<string, string> _environment = null!;
    private bool _passed;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("sg_buildrun");
        _environment = new Dictionary<string, string>
        {
            // build.ps1 points the node at this database on the shared server.
            ["SMARTGRID_DATABASE"] = _database.Name,
            ["SmartGrid__Http__IngestPort"] = _ingestPort.ToString(),
            ["SmartGrid__Http__GatewayPort"] = FreePort.Next().ToString(),
            ["SmartGrid__Cluster__Port"] = FreePort.Next().ToString(),
            ["SmartGrid__Management__Enabled"] = "false",
            ["SmartGrid__Simulator__Enabled"] = "false",
            // Idle meters close their last windows after 2 s instead of 30 s: the spec waits less, nothing else changes.
            ["SmartGrid__Pipeline__IdleClose"] = "00:00:02",
            // No build servers outliving the run: the tree killed is the whole run.
            ["SMARTGRID_MAIL_SINK"] = "off", // a detached smtp4dev would outlive the killed tree
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "false",
            ["UseSharedCompilation"] = "false",
        };
    }

    [Fact]
    public async Task Should_count_every_acknowledged_reading_once_after_kill_9_of_the_whole_build_run_tree()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(2), WindowSize.FifteenMinutes);
        var stream = ReadingScenario.Generate(meters: 4, span: TimeSpan.FromMinutes(33), start, seed: 1056);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        var expectedRows = truth.OneMinute.Count + truth.FifteenMinutes.Count;
        output.WriteLine($"{stream.Count} readings for 4 meters from {start:O}: {truth.Accepted} to count, {truth.Duplicates} duplicates, " +
                         $"{truth.TooLate} too late; {expectedRows} 1m/15m rows expected");
        Assert.True(truth.Duplicates > 50 && truth.TooLate > 0, "the dataset lacks duplicates or stragglers");

        await RunGuardedAsync(async () =>
        {
            var first = await StartRunAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_ingestPort}") };
            foreach (var batch in stream.Chunk(BatchSize))
            {
                using var response = await http.PostAsync("/telemetry/batch",
                    new StringContent(JsonSerializer.Serialize(batch), Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            var killed = await first.KillTreeAsync(TimeSpan.FromSeconds(10));
            var rowsAtKill = await CountRowsAsync();
            output.WriteLine($"all {stream.Count} readings acknowledged; kill -9 of pids {string.Join(", ", killed)} with {rowsAtKill} of {expectedRows} rows written");
            Assert.True(killed.Count >= 3, $"expected build.sh's dotnet tool run, pwsh and the node in the tree, got {killed.Count} process(es)");
            Assert.True(rowsAtKill < expectedRows, "the run finished before it was killed: the spec proves nothing");

            var restarted = Stopwatch.StartNew();
            await StartRunAsync();
            var readyAfter = restarted.Elapsed;
            await PipelineAssertions.WaitForTruthAsync(_database.ConnectionString, truth, TruthDeadline, output);
            var truthAfter = restarted.Elapsed;
            Assert.Equal(expectedRows, await CountRowsAsync());
            output.WriteLine($"restart → ready in {readyAfter.TotalSeconds:0.0} s, ground truth ({expectedRows} of {expectedRows} rows) in " +
                             $"{truthAfter.TotalSeconds:0.0} s ({(truthAfter - readyAfter).TotalSeconds:0.0} s after ready)");

            // The ledger is paid off once the processor has committed what the pump republished.
            var until = DateTime.UtcNow + TruthDeadline;
            while (await ScalarAsync("SELECT count(*) FROM ingest_ledger") > 0)
            {
                Assert.True(DateTime.UtcNow < until, "the ingest ledger still holds rows the processor consumed");
                await Task.Delay(500);
            }
            await PipelineAssertions.WaitForTruthAsync(_database.ConnectionString, truth, TimeSpan.FromSeconds(10), output);
        });
    }

    private async Task<NodeProcess> StartRunAsync()
    {
        var run = NodeProcess.StartScript("build.sh", ["run"], _environment, Path.Combine(_logDir, $"run-{_runs.Count + 1}.log"));
        _runs.Add(run);
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            Assert.False(run.HasExited, $"./build.sh run exited (code {(run.HasExited ? run.ExitCode : 0)}) before the node was ready");
            Assert.True(clock.Elapsed < ReadyTimeout, $"./build.sh run not ready within {ReadyTimeout}");
            try
            {
                using var ready = await http.GetAsync($"http://127.0.0.1:{_ingestPort}/health/ready");
                if (ready.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException)
            {
                // Still building or starting.
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        output.WriteLine($"./build.sh run {_runs.Count} (pid {run.Id}) ready in {clock.Elapsed.TotalSeconds:0.0} s");
        return run;
    }

    private async Task<long> CountRowsAsync() =>
        await ScalarAsync("SELECT (SELECT count(*) FROM aggregates_1m) + (SELECT count(*) FROM aggregates_15m)");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(_database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Runs the body; on failure prints where each run's log is and its last lines, then rethrows.</summary>
    private async Task RunGuardedAsync(Func<Task> body)
    {
        try
        {
            await body();
            _passed = true;
        }
        catch
        {
            foreach (var (run, i) in _runs.Select((r, i) => (r, i + 1)))
            {
                output.WriteLine($"--- run {i} (pid {run.Id}), log {run.LogFile}, last lines:");
                output.WriteLine(run.Tail());
            }
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var run in _runs)
        {
            if (!run.HasExited) await run.KillTreeAsync(TimeSpan.FromSeconds(10));
            run.Dispose();
        }
        if (_passed && Environment.GetEnvironmentVariable("SMARTGRID_KEEP_NODE_LOGS") != "1") Directory.Delete(_logDir, recursive: true);
        if (_database is not null) await _database.DisposeAsync();
    }
}
