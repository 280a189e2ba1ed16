using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Meters;
using SmartGrid.Kafka;
using SmartGrid.Services;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Tariffs;
using SmartGrid.Storage;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Tests;

/// <summary>
/// The gateway hosted in-process on 127.0.0.1 (random port) in Development mode (demo accounts
/// seeded), against a fresh PostgreSQL database of its own (dropped at the end), real Redis under
/// a key prefix of its own (deleted at the end), an embedded Kafka broker with the seed's topics
/// and a real in-process actor system running the real TariffManager (consuming
/// tariff_overrides from the broker) and AlertManager, plus a stand-in meter shard answering
/// <see cref="GetMeterStatus"/> (meter <see cref="SilentMeter"/> never answers).
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string DemoPassword = "Demo-Password-2025";
    public const string SilentMeter = "MTR-99999999";
    // Per user and route: every spec creates its meters as the one demo admin, so a low limit would throttle the suite itself.
    public const int RateLimit = 120;
    /// <summary>Failed logins of one account from one address before that address waits (<see cref="LoginBaseDelay"/>, doubling).</summary>
    public const int FreeLoginFailures = 3;
    public static readonly TimeSpan LoginBaseDelay = TimeSpan.FromSeconds(30);

    private const string DefaultPostgres = "Host=127.0.0.1;Port=5432;Username=postgres;Database=smartgrid";
    private const string DefaultRedis = "127.0.0.1:6379";

    private readonly string _database = "smartgrid_gateway_test_" + Guid.NewGuid().ToString("N");
    private ActorSystem? _actors;
    private WebApplication? _app;
    private IActorRef _meters = ActorRefs.Nobody;
    private readonly List<WebApplication> _extra = [];

    public string RedisPrefix { get; } = $"gwtest:{Guid.NewGuid():N}:";

    /// <summary>This fixture's own key, as an installation configures it (specs forge tokens with it or with others).</summary>
    public string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
    public string ConnectionString { get; private set; } = "";
    public StorageServices Storage { get; private set; } = null!;
    public IConnectionMultiplexer Redis { get; private set; } = null!;
    public CapturingMessenger Otp { get; } = new();
    public Uri BaseAddress { get; private set; } = null!;
    public EmbeddedKafkaBroker Broker { get; private set; } = null!;
    public IProducer<string, string> Producer { get; private set; } = null!;
    public RedisKeyspace Keys => new(RedisPrefix);
    public GridServicesOptions Services { get; private set; } = null!;
    public IActorRef AlertManager { get; private set; } = ActorRefs.Nobody;
    public ActorSystem Actors => _actors!;

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } cs ? cs : DefaultPostgres;

    public static string RedisConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Redis") is { Length: > 0 } cs ? cs : DefaultRedis;

    public async Task InitializeAsync()
    {
        ConnectionString = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = _database }.ConnectionString;
        DatabaseMigrator.Migrate(ConnectionString);
        Storage = StorageServices.Create(ConnectionString);
        // As a node does at start: configuration (here the defaults) fills the empty regions table.
        await RegionCatalog.SeedIfEmptyAsync(Storage.DataSource, SmartGrid.Domain.Grid.Regions.Defaults);
        Redis = await ConnectionMultiplexer.ConnectAsync(RedisConnectionString);
        Broker = EmbeddedKafkaBroker.Start(Topics.All);
        Producer = ProducerSettings.ForStrings(Broker.BootstrapServers).CreateProducer();
        var tariffs = new TariffSettings();
        Services = new GridServicesOptions
        {
            Redis = Keys,
            Tariffs = tariffs with
            {
                // Long enough that an override reaches the TariffManager through Kafka, not its periodic check.
                OverrideCheckInterval = TimeSpan.FromHours(1),
                Consumer = tariffs.Consumer with
                {
                    BootstrapServers = Broker.BootstrapServers,
                    GroupId = "gateway-test-" + Guid.NewGuid().ToString("N"),
                    Properties = new Dictionary<string, string> { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" },
                },
            },
        };

        _actors = ActorSystem.Create("gateway-test", "akka.loglevel = WARNING");
        _meters = _actors.ActorOf(Props.Create(() => new FakeMeterShard()), "meters");
        _actors.ActorOf(TariffManager.Props(Services.Tariffs, Storage.DataSource, Redis, Keys, Producer), "tariff-manager");
        AlertManager = _actors.ActorOf(SmartGrid.Services.Alerts.AlertManager.Props(Services.Alerts, Storage.DataSource, Redis, Keys, Producer), "alert-manager");

        _app = await StartGatewayAsync(Storage, new FixedAlertManagerRef(AlertManager), seed: true);
        BaseAddress = new Uri(_app.Urls.First());
    }

    /// <summary>
    /// Another gateway instance sharing this one's Redis keys, Kafka and actors (tokens of one are
    /// valid on the other); <paramref name="storage"/> may point at another database, or at none.
    /// </summary>
    /// <remarks>
    /// <paramref name="ownMessenger"/>: the gateway's own account messenger (configured by <paramref name="settings"/>)
    /// instead of <see cref="Otp"/>; <paramref name="log"/> receives everything it logs.
    /// </remarks>
    public async Task<Uri> StartSecondGatewayAsync(StorageServices storage, IAlertManagerRef? alerts = null,
        IDictionary<string, string?>? settings = null, IConnectionMultiplexer? redis = null, bool ownMessenger = false,
        ILoggerProvider? log = null)
    {
        var app = await StartGatewayAsync(storage, alerts ?? new FixedAlertManagerRef(AlertManager), seed: false, settings, redis,
            ownMessenger, log);
        _extra.Add(app);
        return new Uri(app.Urls.First());
    }

    private async Task<WebApplication> StartGatewayAsync(StorageServices storage, IAlertManagerRef alerts, bool seed,
        IDictionary<string, string?>? settings = null, IConnectionMultiplexer? redis = null, bool ownMessenger = false,
        ILoggerProvider? log = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
        }
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SmartGrid:Gateway:RedisKeyPrefix"] = RedisPrefix,
            ["SmartGrid:Gateway:SigningKey"] = SigningKey,
            ["SmartGrid:Gateway:RateLimitPerMinute"] = RateLimit.ToString(),
            ["SmartGrid:Gateway:AnonymousRateLimitPerMinute"] = "10000",
            ["SmartGrid:Gateway:LoginFreeFailures"] = FreeLoginFailures.ToString(),
            ["SmartGrid:Gateway:LoginBaseDelay"] = LoginBaseDelay.ToString(),
            ["SmartGrid:Gateway:LoginMaxFailuresPerIp"] = "10000",
            ["SmartGrid:Gateway:MeterStatusTimeout"] = "00:00:01",
            ["SmartGrid:Gateway:OtpMaxAttempts"] = "3",
            ["SmartGrid:Gateway:SeedDemoAccounts"] = seed ? "true" : "false",
            [DemoAccountSeederSetting] = DemoPassword,
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(storage);
        builder.Services.AddSingleton(storage.Meters);
        builder.Services.AddSingleton(storage.Queries);
        builder.Services.AddSingleton(redis ?? Redis);
        builder.Services.AddSingleton(Producer);
        builder.Services.AddSingleton(Services);
        if (!ownMessenger)
            builder.Services.AddSingleton<IAccountMessenger>(Otp);
        builder.Services.AddSingleton<IMeterStatusSource>(new ActorMeterStatusSource(_meters));
        builder.Services.AddSingleton(alerts);
        builder.AddGateway();

        var app = builder.Build();
        app.MapGateway(0);
        await app.StartAsync();
        return app;
    }

    private const string DemoAccountSeederSetting = Seeding.DemoAccountSeeder.PasswordSetting;

    public HttpClient Client(string? accessToken = null, Uri? baseAddress = null)
    {
        var client = new HttpClient { BaseAddress = baseAddress ?? BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        if (accessToken is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    /// <summary>A client whose connections come from <paramref name="source"/> (any 127/8 address is loopback on Linux).</summary>
    public HttpClient ClientFrom(string source, Uri? baseAddress = null) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    { BaseAddress = baseAddress ?? BaseAddress, Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>Registers a fresh account, verifies it with the captured code; returns its email and id.</summary>
    public async Task<(string Email, string Password, Guid Id)> NewVerifiedUserAsync()
    {
        var email = $"u{Guid.NewGuid():N}@example.com";
        const string password = "Correct-Horse-42";
        using var client = Client();
        var register = await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, register.StatusCode);
        var verify = await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code = Otp.LastCodeFor(email) });
        Assert.Equal(System.Net.HttpStatusCode.OK, verify.StatusCode);
        var id = (await verify.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("user_id").GetGuid();
        return (email, password, id);
    }

    public async Task<Tokens> LoginAsync(string email, string password)
    {
        using var client = Client();
        var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new Tokens(body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    public Task<Tokens> LoginDemoAsync(string email) => LoginAsync(email, DemoPassword);

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var cmd = Storage.DataSource.CreateCommand(sql);
        foreach (var p in parameters)
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _extra.Append(_app).OfType<WebApplication>())
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        if (_actors is not null)
            await _actors.Terminate();
        Producer?.Dispose();
        Broker?.Dispose();
        if (Redis is not null)
        {
            foreach (var endpoint in Redis.GetEndPoints())
            {
                var keys = Redis.GetServer(endpoint).Keys(pattern: RedisPrefix + "*").ToArray();
                if (keys.Length > 0)
                    await Redis.GetDatabase().KeyDeleteAsync(keys);
            }
            await Redis.DisposeAsync();
        }
        if (Storage is not null)
            await Storage.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", conn);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Stands in for the meter shard region: answers every meter but <see cref="SilentMeter"/>.</summary>
    private sealed class FakeMeterShard : ReceiveActor
    {
        public FakeMeterShard()
        {
            Receive<GetMeterStatus>(q => q.MeterId != SilentMeter, q => Sender.Tell(new MeterStatus(
                q.MeterId, "Pune-West", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), 42, 1, 0, [], new double?[24])));
            Receive<GetMeterStatus>(_ => { });
        }
    }
}

public sealed record Tokens(string Access, string Refresh);

/// <summary>Keeps the messages the gateway would have sent.</summary>
public sealed class CapturingMessenger : IAccountMessenger
{
    private readonly ConcurrentQueue<AccountMessage> _sent = new();

    public Task SendAsync(AccountMessage message, CancellationToken ct)
    {
        _sent.Enqueue(message);
        return Task.CompletedTask;
    }

    public IReadOnlyList<AccountMessage> SentTo(string address) =>
        _sent.Where(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase)).ToArray();

    public string LastCodeFor(string address) => SentTo(address).Last(m => m.Code is not null).Code!;
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
