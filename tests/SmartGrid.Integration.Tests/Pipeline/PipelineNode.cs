using Akka.Actor;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Node;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>A whole node in this process (embedded Kafka, its own database) with short idle times for tests.</summary>
public sealed class PipelineNode : IAsyncDisposable
{
    public static readonly TimeSpan Lateness = TimeSpan.FromMinutes(1);

    /// <summary>A plain Nashik reading of 1 kW, for specs that talk to the meters directly.</summary>
    public static TelemetryReading Reading(string meter, DateTimeOffset at) => new()
    {
        MeterId = meter, Timestamp = at, Voltage = 230, Current = 4.35, PowerKw = 1.0, EnergyKwh = 1.0 / 360, Region = "Nashik",
    };

    private readonly bool _ownsDatabase;

    private PipelineNode(TestDatabase database, WebApplication app, bool ownsDatabase)
    {
        Database = database;
        App = app;
        _ownsDatabase = ownsDatabase;
    }

    public TestDatabase Database { get; }
    public WebApplication App { get; }
    public string KafkaBootstrap => App.Services.GetRequiredService<KafkaEndpoint>().BootstrapServers;

    /// <summary>
    /// An HTTP client of this node's ingest port set up as a head-end in production: its
    /// <paramref name="meters"/> registered by the operator, its requests carrying a key of its own
    /// (the node runs outside Development, so keys and registered meters are required).
    /// </summary>
    public async Task<HttpClient> HeadEndClientAsync(IEnumerable<(string MeterId, string Region)> meters)
    {
        await App.Services.GetRequiredService<SmartGrid.Storage.MeterRegistry>().EnsureRegisteredAsync(meters);
        var (_, key) = await App.Services.GetRequiredService<SmartGrid.Storage.IngestionKeys>().CreateAsync("pipeline specs", null, canProvision: false, "specs");
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{App.Services.GetRequiredService<SmartGrid.Node.SmartGridOptions>().Http.IngestPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>The meter shard region (or proxy) of this node.</summary>
    public IActorRef Meters => App.Services.GetRequiredService<Akka.Hosting.ActorRegistry>().Get<SmartGrid.Actors.Metering.MeterBucket>();

    /// <summary>One number from this node's database about a meter's journal: <c>@p</c> in <paramref name="sql"/> is its persistence id.</summary>
    public Task<long> MeterScalarAsync(string sql, string meter) => ScalarAsync(sql, SmartGrid.Actors.Metering.MeterBucket.PersistenceIdPrefix + meter);

    /// <summary>One number from this node's database; <c>@p</c> in <paramref name="sql"/> is <paramref name="p"/>.</summary>
    public async Task<long> ScalarAsync(string sql, string p)
    {
        await using var connection = new Npgsql.NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(sql, connection);
        cmd.Parameters.AddWithValue("p", p);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>Whether the meter is in its bucket's memory (asking the region does not start a bucket; asking a bucket loads no meter).</summary>
    public async Task<bool> IsLiveAsync(string meter)
    {
        var state = await Meters.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, TimeSpan.FromSeconds(30));
        var bucket = SmartGrid.Actors.Metering.MeterMessageExtractor.ShardOf(meter);
        if (!state.Shards.Any(shard => shard.EntityIds.Contains(bucket))) return false;
        return (await Meters.Ask<SmartGrid.Actors.Metering.BucketStatus>(SmartGrid.Actors.Metering.GetBucketStatus.Of(meter), TimeSpan.FromSeconds(30))).MeterActive;
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until the idle meter has left memory.</summary>
    public async Task<bool> WaitUntilPassivatedAsync(string meter, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (await IsLiveAsync(meter))
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(250);
        }
        return true;
    }

    public static async Task<PipelineNode> StartAsync(string roles = "processor", params string[] extra) =>
        await StartAsync(await TestDatabase.CreateAsync("sg_pipeline"), ownsDatabase: true, roles, extra);

    /// <summary>A node on a database that outlives it (a later life of the same node): disposing it leaves the database.</summary>
    public static Task<PipelineNode> StartOnAsync(TestDatabase database, string roles = "processor", params string[] extra) =>
        StartAsync(database, ownsDatabase: false, roles, extra);

    /// <summary>A node on <paramref name="database"/>, reaching it through <paramref name="connectionString"/> (a <see cref="TcpLink"/>, say); disposing it leaves the database.</summary>
    public static Task<PipelineNode> StartAsync(TestDatabase database, string connectionString, string roles, params string[] extra) =>
        StartAsync(database, ownsDatabase: false, roles, extra, connectionString);

    private static async Task<PipelineNode> StartAsync(TestDatabase database, bool ownsDatabase, string roles, string[] extra, string? connectionString = null)
    {
        connectionString ??= database.ConnectionString;
        var args = new List<string>
        {
            $"--ConnectionStrings:Postgres={connectionString}",
            $"--SmartGrid:Roles={roles}",
            "--SmartGrid:Cluster:Port=0",
            $"--SmartGrid:Http:IngestPort={FreePort.Next()}",
            $"--SmartGrid:Http:GatewayPort={FreePort.Next()}",
            "--SmartGrid:Pipeline:IdleClose=00:00:02",
            $"--SmartGrid:Pipeline:AllowedLateness={Lateness}",
            $"--SmartGrid:Kafka:BootstrapFile={Path.Combine(Path.GetTempPath(), database.Name, "bootstrap")}",
            "--SmartGrid:Simulator:Enabled=false",
        };
        args.AddRange(extra);
        var app = SmartGridNode.Build(args.ToArray());
        await app.StartAsync();
        return new PipelineNode(database, app, ownsDatabase);
    }

    /// <summary>Produces readings keyed by meter in the given order, as the ingestion service would.</summary>
    public static async Task ProduceAsync(string bootstrap, IEnumerable<TelemetryReading> readings)
    {
        KafkaNative.EnsureLoaded();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap, EnableIdempotence = true, Acks = Acks.All, CompressionType = CompressionType.Zstd, LingerMs = 5,
            Partitioner = Partitioner.Murmur2Random,
        }).Build();
        foreach (var r in readings)
            producer.Produce(Topics.RawReadings, new Message<string, string> { Key = r.MeterId, Value = System.Text.Json.JsonSerializer.Serialize(r) },
                report => { if (report.Error.IsError) throw new InvalidOperationException(report.Error.Reason); });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDatabase) await Database.DisposeAsync();
    }
}
