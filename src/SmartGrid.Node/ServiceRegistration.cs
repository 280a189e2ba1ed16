using Confluent.Kafka;
using SmartGrid.Actors.Hosting;
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
        services.AddPartitionMaintenance();
        // Before Akka's hosted service: the region actors read capacities from the first load.
        services.AddHostedService<RegionCatalogRefresher>();
        services.AddHostedService<GridLayoutRefresher>();
        return services;
    }

    /// <summary>
    /// One producer per node, shared by everything that publishes, with SmartGrid.Kafka's producer
    /// settings: idempotent, acks=all, zstd, and a 5 ms linger (larger batches mean fewer record
    /// batches to store, fetch and decompress, for a few ms more on an ingest ack).
    /// </summary>
    public static IServiceCollection AddKafkaProducer(this IServiceCollection services, string bootstrapServers)
    {
        services.AddSingleton<IProducer<string, string>>(_ => ProducerSettings.ForStrings(bootstrapServers).CreateProducer());
        services.AddSingleton(sp => new KafkaJson(sp.GetRequiredService<IProducer<string, string>>()));
        return services;
    }
}
