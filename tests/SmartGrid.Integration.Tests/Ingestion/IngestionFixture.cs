using System.Net;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Ingestion;
using SmartGrid.Storage;

namespace SmartGrid.Integration.Tests.Ingestion;

[CollectionDefinition(Name)]
public sealed class IngestionCollection : ICollectionFixture<IngestionFixture>
{
    public const string Name = "ingestion";
}

/// <summary>
/// What the ingestion and simulator specs share: a real embedded Kafka broker with the seed's
/// topics, a fresh migrated PostgreSQL database (env ConnectionStrings__Postgres names the
/// server; dropped at the end) with the default regions seeded as a node seeds them, an ingestion
/// key for every region allowed to provision (<see cref="ProvisioningKey"/>), and an ingestion
/// host with <see cref="Provisioning"/> options on a random port whose client sends that key.
/// No Akka cluster: only <c>AddIngestion</c> / <c>MapIngestion</c> on a minimal WebApplication.
/// </summary>
public sealed class IngestionFixture : IAsyncLifetime
{
    private const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=postgres;Database=smartgrid";

    public EmbeddedKafkaBroker Broker { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary><see cref="Provisioning"/> options, endpoint mapped on every port, client sending <see cref="ProvisioningKey"/>.</summary>
    public IngestionHost Host { get; private set; } = null!;

    /// <summary>The secret of a key for every region that may register meters.</summary>
    public string ProvisioningKey { get; private set; } = "";

    /// <summary>Default options but with auto-provisioning (keys required, MaxBatch 5,000).</summary>
    public static IngestionOptions Provisioning => new() { RequireRegisteredMeters = false };

    private static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } cs ? cs : DefaultServer;

    public async Task InitializeAsync()
    {
        Broker = EmbeddedKafkaBroker.Start(Topics.All);
        ConnectionString = new NpgsqlConnectionStringBuilder(ServerConnectionString)
        {
            Database = "smartgrid_ingest_test_" + Guid.NewGuid().ToString("N"),
        }.ConnectionString;
        await Task.Run(() => DatabaseMigrator.Migrate(ConnectionString));
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await RegionCatalog.SeedIfEmptyAsync(DataSource, Regions.Defaults);
        (_, ProvisioningKey) = await new IngestionKeys(DataSource).CreateAsync("ingestion specs", null, canProvision: true, "specs");
        Host = await StartHostAsync(Provisioning);
    }

    private readonly List<IngestionHost> _hosts = [];

    /// <summary>
    /// Another ingestion host on this broker (or <paramref name="bootstrapServers"/>) and database (or
    /// <paramref name="dataSource"/>), with its own meter registry, region catalog and key cache (so its
    /// own caches) and its own ledger owner and pump. <paramref name="mapPort"/> 0 maps the endpoint on
    /// every port; its client sends <paramref name="apiKey"/> (default <see cref="ProvisioningKey"/>; "" sends none).
    /// </summary>
    public async Task<IngestionHost> StartHostAsync(IngestionOptions options, int mapPort = 0, string? bootstrapServers = null,
        NpgsqlDataSource? dataSource = null, string? apiKey = null, TimeSpan? keyRefresh = null)
    {
        var owner = options.LedgerOwner ?? "ingest-spec-" + Guid.NewGuid().ToString("N")[..12];
        var host = await IngestionHost.StartAsync(options with { LedgerOwner = owner }, mapPort, dataSource ?? DataSource,
            bootstrapServers ?? Broker.BootstrapServers, apiKey ?? ProvisioningKey, keyRefresh);
        lock (_hosts) _hosts.Add(host);
        return host;
    }

    public async Task<long> ScalarAsync(string sql, params object[] parameters)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var p in parameters)
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>
    /// Every record now on <paramref name="topic"/> (raw_readings unless given) whose key is in <paramref name="keys"/>, once the live hosts'
    /// ledger pumps have published what they acknowledged (unless <paramref name="waitForLedger"/> is false): reads each
    /// partition from the beginning up to its current end (no consumer group, so no rebalance wait).
    /// </summary>
    public List<ConsumeResult<string, string>> ReadTopic(IReadOnlySet<string> keys, Topic? topic = null, string? bootstrapServers = null,
        bool waitForLedger = true)
    {
        // An acknowledgement means "in the ledger"; the hosts' pumps publish right after it.
        if (waitForLedger)
        {
            IngestionHost[] live;
            lock (_hosts) live = _hosts.Where(h => !h.Disposed).ToArray();
            Task.WhenAll(live.Select(h => h.Pump.WaitPublishedAsync(TimeSpan.FromSeconds(15)))).GetAwaiter().GetResult();
        }
        topic ??= Topics.RawReadings;
        var partitions = topic.Partitions;
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers ?? Broker.BootstrapServers,
            GroupId = "ingestion-specs-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        var ends = Enumerable.Range(0, partitions)
            .Select(p => new TopicPartition(topic, p))
            .ToDictionary(tp => tp, tp => consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High.Value);
        var pending = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
        consumer.Assign(pending.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        var found = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (pending.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"reading {topic} back timed out; partitions left: {string.Join(",", pending)}");
            var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (record is null || record.IsPartitionEOF)
                continue;
            if (keys.Contains(record.Message.Key))
                found.Add(record);
            if (record.Offset.Value >= ends[record.TopicPartition] - 1)
                pending.Remove(record.TopicPartition);
        }
        return found;
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
            await Host.DisposeAsync();
        if (DataSource is not null)
            await DataSource.DisposeAsync();
        Broker?.Dispose();
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync();
        var name = new NpgsqlConnectionStringBuilder(ConnectionString).Database;
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>A running minimal WebApplication with only the ingestion endpoint, on 127.0.0.1 and a random port.</summary>
public sealed class IngestionHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private IngestionHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public int Port { get; }
    public HttpClient Client { get; }
    public IServiceProvider Services => _app.Services;
    public Uri IngestUrl => new(Client.BaseAddress!, IngestionHosting.Route);
    public LedgerPump Pump => _app.Services.GetRequiredService<LedgerPump>();
    public LedgerBacklog Backlog => _app.Services.GetRequiredService<LedgerBacklog>();
    public string LedgerOwner => _app.Services.GetRequiredService<IngestionOptions>().LedgerOwner!;
    public bool Disposed { get; private set; }

    public static async Task<IngestionHost> StartAsync(IngestionOptions options, int mapPort, NpgsqlDataSource dataSource, string bootstrapServers,
        string apiKey = "", TimeSpan? keyRefresh = null)
    {
        // The open mode (no key required) exists only in Development.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = options.RequireApiKey ? "Testing" : "Development" });
        // Only what the spec gives it: not the appsettings.json copied here from SmartGrid.Node.
        builder.Configuration.Sources.Clear();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        // Instances, not factories: the host does not dispose what the fixture shares.
        builder.Services.AddSingleton(dataSource);
        builder.Services.AddSingleton(new MeterRegistry(dataSource));
        builder.Services.AddSingleton(new RegionCatalog(dataSource));
        builder.Services.AddSingleton(new IngestionKeys(dataSource, refreshInterval: keyRefresh));
        builder.AddIngestion(bootstrapServers, options.LedgerOwner!, options);

        var app = builder.Build();
        app.MapIngestion(mapPort);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var host = new IngestionHost(app, new Uri(address).Port);
        if (apiKey.Length > 0)
            host.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Disposed = true;
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
