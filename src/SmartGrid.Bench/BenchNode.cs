using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Simulation;
using SmartGrid.Node;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// A node a bench runs in its own process: built from the bench's arguments and started; when the bench is done with it,
/// whatever the outcome, stopped gracefully (streams drained, singletons handed over) and then disposed.
/// </summary>
internal sealed class BenchNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchNode(WebApplication app) => _app = app;

    public IServiceProvider Services => _app.Services;

    /// <summary>The node's meter shard region.</summary>
    public IActorRef Meters => Services.GetRequiredService<ActorRegistry>().Get<MeterBucket>();

    /// <summary>Meters in memory in this node's buckets now: the passivated ones cost no memory and are not counted.</summary>
    public async Task<long> ActiveMetersAsync()
    {
        var state = await Meters.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(60));
        var buckets = await Task.WhenAll(state.Shards.SelectMany(s => s.EntityIds)
            .Select(bucket => Meters.Ask<BucketStatus>(new GetBucketStatus(bucket), TimeSpan.FromSeconds(60))));
        return buckets.Sum(b => (long)b.ActiveMeters);
    }

    /// <summary>
    /// The settings of a node on the bench's own database and embedded broker, with the simulator off (the bench feeds
    /// the readings itself), followed by the bench's <paramref name="more"/>. Without a <paramref name="broker"/> the
    /// node starts an embedded one of its own, whose address file is kept beside the run's database name so that it
    /// overwrites no other node's.
    /// </summary>
    public static string[] Args(BenchDatabase database, EmbeddedKafkaBroker? broker, string roles, int clusterPort, params string[] more) =>
    [
        $"--ConnectionStrings:Postgres={database.ConnectionString}",
        $"--SmartGrid:Roles={roles}",
        $"--SmartGrid:Cluster:Port={clusterPort}",
        broker is null
            ? $"--SmartGrid:Kafka:BootstrapFile={Path.Combine(Path.GetTempPath(), database.Name, "bootstrap")}"
            : $"--SmartGrid:Kafka:BootstrapServers={broker.BootstrapServers}",
        "--SmartGrid:Simulator:Enabled=false",
        .. more,
    ];

    public static async Task<BenchNode> StartAsync(string[] args)
    {
        var app = SmartGridNode.Build(args);
        await app.StartAsync();
        return new BenchNode(app);
    }

    /// <summary>As a head-end in production: its meters registered by the operator, and the ingestion key its requests carry.</summary>
    public async Task<string> RegisterHeadEndAsync(MeterFleet fleet, string name)
    {
        await Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(fleet.Meters.Select(m => (m.MeterId, m.Region)));
        var (_, secret) = await Services.GetRequiredService<IngestionKeys>().CreateAsync(name, null, canProvision: false, "bench");
        return secret;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
