using Confluent.Kafka;
using SmartGrid.Actors.Projections;
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

