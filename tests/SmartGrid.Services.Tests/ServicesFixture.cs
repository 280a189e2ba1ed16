using Akka.Actor;
using Akka.Configuration;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Kafka;
using SmartGrid.Services.Common;
using SmartGrid.Storage;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>One embedded Kafka broker and one Redis connection for the whole run.</summary>
public sealed class ServicesFixture : IDisposable
{
    public ServicesFixture()
    {
        Broker = EmbeddedKafkaBroker.Start([]);
        Producer = ProducerSettings.ForStrings(Broker.BootstrapServers).CreateProducer();
        var redis = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") is { Length: > 0 } r ? r : "127.0.0.1:6379";
        Redis = ConnectionMultiplexer.Connect(redis);
    }

    public EmbeddedKafkaBroker Broker { get; }
    public IProducer<string, string> Producer { get; }
    public IConnectionMultiplexer Redis { get; }

    public void Dispose()
    {
        Producer.Dispose();
        Redis.Dispose();
        Broker.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServicesCollection : ICollectionFixture<ServicesFixture>
{
    public const string Name = "Grid services";
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// Base of the manager specs: a fresh migrated database per test (dropped after), a Redis key
/// prefix per test (its keys deleted after), and topics of its own on the shared broker.
/// </summary>
[Collection(ServicesCollection.Name)]
public abstract class ServiceSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly Akka.Configuration.Config SpecConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = INFO
        akka.stdout-loglevel = WARNING
        """);

    private readonly string _database = "smartgrid_services_test_" + Guid.NewGuid().ToString("N");

    protected ServiceSpec(ServicesFixture fixture, ITestOutputHelper output) : base(SpecConfig, output: output)
    {
        Fixture = fixture;
        Keys = new RedisKeyspace($"test:{Guid.NewGuid():N}:");
        ConnectionString = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = _database }.ConnectionString;
    }

    protected ServicesFixture Fixture { get; }
    protected RedisKeyspace Keys { get; }
    protected string ConnectionString { get; }
    protected NpgsqlDataSource Db { get; private set; } = null!;
    protected IDatabase Redis => Fixture.Redis.GetDatabase();

    private static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } cs
            ? cs
            : "Host=127.0.0.1;Port=5432;Username=postgres;Database=smartgrid";

    public Task InitializeAsync()
    {
        DatabaseMigrator.Migrate(ConnectionString);
        Db = NpgsqlDataSource.Create(ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Shutdown();
        await Db.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }

        foreach (var endpoint in Fixture.Redis.GetEndPoints())
        {
            var server = Fixture.Redis.GetServer(endpoint);
            var keys = server.Keys(pattern: Keys.Prefix + "*").ToArray();
            if (keys.Length > 0) await Redis.KeyDeleteAsync(keys);
        }
    }

    protected string NewTopic(string prefix, int partitions = 1)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}";
        Fixture.Broker.CreateTopic(name, partitions);
        return name;
    }

    /// <summary>An AlertManager publishing to its own <see cref="AlertSettings.AlertsTopic"/> (created here, 3 partitions).</summary>
    protected IActorRef StartAlertManager(AlertSettings settings)
    {
        Fixture.Broker.CreateTopic(settings.AlertsTopic, 3);
        return Sys.ActorOf(SmartGrid.Services.Alerts.AlertManager.Props(settings, Db, Fixture.Redis, Keys, Fixture.Producer));
    }

    protected static async Task<RecordHandled> Deliver(IActorRef manager, string topic, object value) =>
        await manager.Ask<RecordHandled>(new ConsumedRecord(topic, null, WireJson.Serialize(value)), TimeSpan.FromSeconds(10));

    /// <summary>Every message on the topic, in partition then offset order.</summary>
    protected List<ConsumeResult<string, string>> ReadAll(string topic)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Fixture.Broker.BootstrapServers,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        var metadata = new List<TopicPartition>();
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Fixture.Broker.BootstrapServers }).Build())
        {
            var topicMetadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
            metadata.AddRange(topicMetadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
        }

        var results = new List<ConsumeResult<string, string>>();
        foreach (var partition in metadata.OrderBy(p => p.Partition.Value))
        {
            var high = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High.Value;
            if (high == 0) continue;
            consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is { IsPartitionEOF: false, Message: not null }) results.Add(result);
                if (result?.Offset.Value >= high - 1) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"reading {partition} did not reach offset {high}");
            }
        }

        return results;
    }

    protected async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (T)(await command.ExecuteScalarAsync())!;
    }

    protected Task<bool> CommittedEverything(string group, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = Fixture.Broker.BootstrapServers, GroupId = group, EnableAutoCommit = false,
        }).Build();
        var partitions = Enumerable.Range(0, 3).Select(p => new TopicPartition(topic, p)).ToList();
        var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(5));
        var done = partitions.All(p =>
        {
            var high = consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(5)).High.Value;
            var offset = committed.Single(c => c.Partition == p.Partition).Offset.Value;
            return high == 0 || offset == high;
        });
        return Task.FromResult(done);
    }

    protected static async Task Eventually(Func<Task<bool>> condition, int seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what} did not happen within {seconds} s");
            await Task.Delay(50);
        }
    }
}
