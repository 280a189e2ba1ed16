using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using LinqToDB;
using SmartGrid.Actors.Serialization;

namespace SmartGrid.Actors.Hosting;

public static class AkkaConfiguration
{
    /// <summary>
    /// Remoting, clustering and the PostgreSQL journal for one node. A node without seed nodes
    /// joins itself, which makes the single-process default a one-member cluster.
    /// </summary>
    public static AkkaConfigurationBuilder AddSmartGridCluster(this AkkaConfigurationBuilder builder,
        SmartGridOptions options, string postgres, IReadOnlyList<string> roles, string? hoconFile = null)
    {
        if (hoconFile is not null && File.Exists(hoconFile))
            builder.AddHoconFile(hoconFile, HoconAddMode.Prepend);

        builder
            .ConfigureLoggers(l => l.AddLoggerFactory())
            .WithCustomSerializer("smartgrid", SmartGridSerializer.Manifests.Keys, system => new SmartGridSerializer(system))
            .WithRemoting(options.Cluster.Hostname, options.Cluster.Port)
            .WithClustering(new ClusterOptions
            {
                Roles = roles.ToArray(),
                SeedNodes = options.Cluster.SeedNodes.ToArray(),
            })
            .WithSqlPersistence(
                journalOptions: new SqlJournalOptions(true)
                {
                    ConnectionString = postgres,
                    ProviderName = ProviderName.PostgreSQL15,
                    AutoInitialize = true,
                    // The window projection polls by tag; a short interval keeps window-close → row latency low.
                    QueryRefreshInterval = TimeSpan.FromMilliseconds(100),
                    TagStorageMode = Akka.Persistence.Sql.Config.TagMode.TagTable,
                },
                snapshotOptions: new SqlSnapshotOptions(true)
                {
                    ConnectionString = postgres,
                    ProviderName = ProviderName.PostgreSQL15,
                    AutoInitialize = true,
                })
            .WithActors((system, registry) =>
            {
                system.ActorOf(Props.Create<ClusterListener>(), "cluster-listener");
                if (options.Cluster.SeedNodes.Count == 0)
                {
                    var cluster = Cluster.Get(system);
                    cluster.Join(cluster.SelfAddress);
                }
            });
        return builder;
    }
}
