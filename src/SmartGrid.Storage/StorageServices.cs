using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// The storage layer of one database: a single <see cref="NpgsqlDataSource"/> (the connection
/// pool) and the stores built on it. Create one per connection string and share it; the node
/// registers it with <see cref="StorageServiceCollectionExtensions.AddSmartGridStorage"/>.
/// </summary>
public sealed class StorageServices : IAsyncDisposable
{
    /// <summary>How often <see cref="PartitionMaintenance.RunAsync"/> should run in a node.</summary>
    public static readonly TimeSpan MaintenanceInterval = TimeSpan.FromHours(1);

    private readonly ILogger? _log;
    private readonly TimeProvider _time;

    private StorageServices(string connectionString, ILoggerFactory? loggerFactory, TimeProvider time)
    {
        ConnectionString = connectionString;
        _time = time;
        _log = loggerFactory?.CreateLogger("SmartGrid.Storage");
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (loggerFactory is not null)
            builder.UseLoggerFactory(loggerFactory);
        DataSource = builder.Build();

        Partitions = new PartitionMaintenance(DataSource, loggerFactory?.CreateLogger<PartitionMaintenance>(), time);
        Aggregates = new AggregateStore(DataSource, Partitions);
        RegionalAggregates = new RegionalAggregateStore(DataSource, Partitions);
        RawReadings = new RawReadingStore(DataSource, Partitions);
        Meters = new MeterRegistry(DataSource);
        Regions = new RegionCatalog(DataSource, time);
        IngestionKeys = new IngestionKeys(DataSource, time);
        Offsets = new ProjectionOffsets(DataSource);
        Queries = new AggregateQueries(DataSource);
        Ledger = new IngestLedger(DataSource);
        GridLayout = new GridLayoutCatalog(DataSource, time);
        Topology = new TopologyStore(DataSource, GridLayout);
    }

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }
    public PartitionMaintenance Partitions { get; }
    public AggregateStore Aggregates { get; }
    public RegionalAggregateStore RegionalAggregates { get; }
    public RawReadingStore RawReadings { get; }
    public MeterRegistry Meters { get; }
    public RegionCatalog Regions { get; }
    public IngestionKeys IngestionKeys { get; }
    public ProjectionOffsets Offsets { get; }
    public AggregateQueries Queries { get; }
    public IngestLedger Ledger { get; }
    public TopologyStore Topology { get; }
    public GridLayoutCatalog GridLayout { get; }

    /// <exception cref="ArgumentException">The connection string is missing or names no database.</exception>
    public static StorageServices Create(string connectionString, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("The PostgreSQL connection string (ConnectionStrings:Postgres) is missing.", nameof(connectionString));
        if (string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(connectionString).Database))
            throw new ArgumentException("The PostgreSQL connection string names no database.", nameof(connectionString));
        return new StorageServices(connectionString, loggerFactory, time ?? TimeProvider.System);
    }

    /// <summary>
    /// Startup: migrates the database (creating it if missing) and creates the partitions for
    /// [now - retention, now + 2 days] of every time-series table.
    /// </summary>
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await Task.Run(() => DatabaseMigrator.Migrate(ConnectionString, _log), ct);
        await Partitions.EnsureStartupRangeAsync(_time.GetUtcNow(), ct);
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="StorageServices"/> for <paramref name="connectionString"/> and each of
    /// its stores as singletons. Call <see cref="StorageServices.InitializeAsync"/> at startup and
    /// run <see cref="PartitionMaintenance.RunAsync"/> in a background service.
    /// </summary>
    public static IServiceCollection AddSmartGridStorage(this IServiceCollection services, string connectionString)
    {
        services.AddSingleton(sp => StorageServices.Create(
            connectionString, sp.GetService<ILoggerFactory>(), sp.GetService<TimeProvider>()));
        Store(s => s.Partitions);
        Store(s => s.Aggregates);
        Store(s => s.RegionalAggregates);
        Store(s => s.RawReadings);
        Store(s => s.Meters);
        Store(s => s.Regions);
        Store(s => s.IngestionKeys);
        Store(s => s.Offsets);
        Store(s => s.Queries);
        Store(s => s.Ledger);
        Store(s => s.Topology);
        Store(s => s.GridLayout);
        return services;

        // Each store is the one StorageServices holds, never a second instance with a cache of its own.
        void Store<T>(Func<StorageServices, T> store) where T : class =>
            services.AddSingleton(sp => store(sp.GetRequiredService<StorageServices>()));
    }
}
