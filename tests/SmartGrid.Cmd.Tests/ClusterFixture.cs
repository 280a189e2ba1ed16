using System.Diagnostics;
using SmartGrid.Cmd.Tests.Infrastructure;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Cmd.Tests;

/// <summary>One SmartGrid node process of the fixture's cluster, and how to reach it.</summary>
public sealed record ClusterNode(string Name, NodeProcess Process, int ClusterPort, int ManagementPort)
{
    public string Address => $"akka.tcp://smartgrid@127.0.0.1:{ClusterPort}";
    public string Host => $"127.0.0.1:{ManagementPort}";
}

/// <summary>
/// Three SmartGrid nodes in separate processes on this machine, sharing an embedded Kafka broker (in this
/// test process) and a throwaway database: A (ingest, processor, services) is the seed and the oldest, so it
/// hosts the singletons; B and C (processor, services) join it. Every command endpoint requires a token.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string Token = "cmd-spec-token-0123456789";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"sg-cmd-{Guid.NewGuid():N}");
    private readonly List<NodeProcess> _processes = [];
    private EmbeddedKafkaBroker? _broker;

    public TestDatabase Database { get; private set; } = null!;
    public ClusterNode A { get; private set; } = null!;
    public ClusterNode B { get; private set; } = null!;
    public ClusterNode C { get; private set; } = null!;
    public int IngestPort { get; } = FreePort.Next();
    public IReadOnlyList<ClusterNode> Nodes => [A, B, C];
    /// <summary>Set by a spec that fails, so the node logs stay for a look.</summary>
    public bool KeepLogs { get; set; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task>> _setups = new();

    /// <summary>Runs a setup once per cluster, for whichever spec needs it first; a failed one fails every spec that needs it.</summary>
    public Task OnceAsync(string what, Func<Task> setup) => _setups.GetOrAdd(what, _ => new Lazy<Task>(setup)).Value;
    public string LogDir => _logDir;
    public TimeSpan StartedIn { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        _broker = EmbeddedKafkaBroker.Start(Topics.All);
        Database = await TestDatabase.CreateAsync("sg_cmd_cluster");
        // B's address sorts below C's: with two members left and one of them dead, the split-brain resolver's
        // tie-break keeps the lower address, so B survives even if it decides before the operator does.
        var ports = new[] { FreePort.Next(), FreePort.Next() }.Order().ToArray();
        A = Start("a", "ingest,processor,services", FreePort.Next(), seed: null);
        await WaitUntilServingAsync(A);
        B = Start("b", "processor,services", ports[0], seed: A);
        C = Start("c", "processor,services", ports[1], seed: A);
        await Task.WhenAll(WaitUntilServingAsync(B), WaitUntilServingAsync(C));
        // A member sees itself Up as soon as the leader's round marks it, the others only when gossip brings them the
        // news (the leader's rounds are 4 times as frequent as gossip): every spec starts from a view all three share.
        await Task.WhenAll(Nodes.Select(node => WaitUntilServingAsync(node, members: Nodes.Count)));
        StartedIn = clock.Elapsed;
    }

    /// <summary>Starts a node process with the fixture's broker, database and token; extra arguments win.</summary>
    public NodeProcess StartProcess(string name, IEnumerable<string> args)
    {
        var process = NodeProcess.Start(CommonArgs().Concat(args), Path.Combine(_logDir, $"node-{name}.log"));
        _processes.Add(process);
        return process;
    }

    private ClusterNode Start(string name, string roles, int clusterPort, ClusterNode? seed)
    {
        var managementPort = FreePort.Next();
        var args = new List<string>
        {
            $"--SmartGrid:Roles={roles}",
            $"--SmartGrid:Cluster:Port={clusterPort}",
            $"--SmartGrid:Management:Port={managementPort}",
            $"--SmartGrid:Management:Token={Token}",
            $"--SmartGrid:Http:IngestPort={(roles.Contains("ingest") ? IngestPort : FreePort.Next())}",
        };
        if (seed is not null) args.Add($"--SmartGrid:Cluster:SeedNodes:0={seed.Address}");
        return new ClusterNode(name, StartProcess(name, args), clusterPort, managementPort);
    }

    private IEnumerable<string> CommonArgs() =>
    [
        $"--ConnectionStrings:Postgres={Database.ConnectionString}",
        $"--SmartGrid:Kafka:BootstrapServers={_broker!.BootstrapServers}",
        "--SmartGrid:Simulator:Enabled=false",
        $"--SmartGrid:Http:GatewayPort={FreePort.Next()}",
    ];

    /// <summary>Until the node's command endpoint answers and the node itself is Up.</summary>
    /// <summary>Until <paramref name="node"/> sees itself Up, and with <paramref name="members"/> also that many members, all Up.</summary>
    private static async Task WaitUntilServingAsync(ClusterNode node, int? members = null)
    {
        await node.Process.WaitForLogAsync("Management endpoint (smartgrid-cmd) listening", StartTimeout);
        using var client = new NodeClient(node.Host, Token);
        var request = new NodeRequest("cluster show", HttpMethod.Get, "cluster/show");
        var until = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            var output = await client.RunAsync(request, CancellationToken.None);
            var table = output.Tables[0];
            var status = table.Columns.ToList().IndexOf("status");
            var self = table.Rows.FirstOrDefault(r => r[table.Columns.ToList().IndexOf("self")] == "*");
            var allUp = members is not { } expected || (table.Rows.Count == expected && table.Rows.All(r => r[status] == "Up"));
            if (self is not null && self[status] == "Up" && allUp) return;
            if (DateTime.UtcNow > until) throw new TimeoutException($"node {node.Name} was not Up within {StartTimeout}: {string.Join(" | ", output.Messages)}");
            await Task.Delay(250);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var p in _processes) p.Dispose();
        if (!KeepLogs && Directory.Exists(_logDir)) Directory.Delete(_logDir, recursive: true);
        try
        {
            if (Database is not null) await Database.DisposeAsync();
        }
        finally
        {
            _broker?.Dispose();
        }
    }
}
