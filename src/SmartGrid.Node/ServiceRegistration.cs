using Confluent.Kafka;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Projections;
using SmartGrid.Actors.Regional;
using SmartGrid.Kafka;
using SmartGrid.Storage;

namespace SmartGrid.Node;

public static class ServiceRegistration
{
    /// <summary>One data source for the node, the stores sharing it, and the hourly partition job.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, string postgres)
    {
        services.AddSmartGridStorage(postgres);
        services.AddSingleton(sp => sp.GetRequiredService<StorageServices>().DataSource);
        services.AddHostedService<PartitionMaintenanceService>();
        // Before Akka's hosted service: the region actors read capacities from the first load.
        services.AddHostedService<SmartGrid.Actors.Hosting.RegionCatalogRefresher>();
        return services;
    }

    /// <summary>
    /// The journal cleanup of a processor node: the meters' and regions' events behind their snapshots
    /// and behind both projections that read them by tag, every <paramref name="interval"/>.
    /// </summary>
    public static IServiceCollection AddJournalCleanup(this IServiceCollection services, TimeSpan interval)
    {
        services.AddSingleton(sp => new JournalCleanup(sp.GetRequiredService<StorageServices>().DataSource,
            [WindowProjection.ProjectionId, RegionalProjection.ProjectionId],
            [MeterActor.PersistenceIdPrefix, RegionActor.PersistenceIdPrefix],
            sp.GetService<ILogger<JournalCleanup>>(), sp.GetService<TimeProvider>()));
        services.AddHostedService(sp => new JournalCleanupService(sp.GetRequiredService<JournalCleanup>(), interval, sp.GetRequiredService<ILogger<JournalCleanupService>>()));
        return services;
    }

    /// <summary>One idempotent, compressed producer per node, shared by everything that publishes.</summary>
    public static IServiceCollection AddKafkaProducer(this IServiceCollection services, string bootstrapServers)
    {
        services.AddSingleton<IProducer<string, string>>(_ =>
        {
            KafkaNative.EnsureLoaded();
            return new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = bootstrapServers,
                Acks = Acks.All,
                EnableIdempotence = true,
                CompressionType = CompressionType.Zstd,
                // 5 ms: larger batches mean fewer record batches to store, fetch and decompress (the
                // embedded broker scans its batches linearly), for a few ms more on an ingest ack.
                LingerMs = 5,
            }).Build();
        });
        services.AddSingleton(sp => new KafkaJson(sp.GetRequiredService<IProducer<string, string>>()));
        return services;
    }
}

/// <summary>Creates the partitions ahead of time and drops the ones past retention, hourly.</summary>
public sealed class PartitionMaintenanceService(PartitionMaintenance partitions, ILogger<PartitionMaintenanceService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await partitions.RunAsync(StorageServices.MaintenanceInterval, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.LogDebug("partition maintenance stopped");
        }
    }
}

/// <summary>Runs <see cref="JournalCleanup"/> on its interval for the node's lifetime.</summary>
public sealed class JournalCleanupService(JournalCleanup cleanup, TimeSpan interval, ILogger<JournalCleanupService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await cleanup.RunAsync(interval, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.LogDebug("journal cleanup stopped");
        }
    }
}
