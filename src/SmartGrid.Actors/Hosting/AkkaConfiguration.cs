using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using LinqToDB;
using SmartGrid.Actors.Persistence;
using SmartGrid.Actors.Serialization;

namespace SmartGrid.Actors.Hosting;

public static class AkkaConfiguration
{
    /// <summary>The journal plugin the region actors write through (same tables as the default one).</summary>
    public const string RegionJournalId = "sql-regions";
    public const string RegionJournalPluginId = "akka.persistence.journal." + RegionJournalId;

    /// <summary>
    /// The snapshot store the region actors save and load through (the same table, the plugin's own store): a region's
    /// snapshot holds every meter's windows (13 MB a region at 300,000 meters), and through the meters' batched store its
    /// load shared a statement with, and its save a write place among, the meters' recoveries and snapshots.
    /// </summary>
    public const string RegionSnapshotPluginId = "akka.persistence.snapshot-store." + RegionJournalId;

    /// <summary>
    /// The journal writes a batch of rows with linq2db's bulk copy, which on PostgreSQL defaults to
    /// one INSERT whose text spells every payload out in hex: megabytes of string per batch, built
    /// and parsed again by the server, and large-object-heap garbage that forced a full GC every
    /// few seconds at 20K readings/s. Binary COPY streams the rows instead. (Process-wide: the
    /// journal is this process's only linq2db user.)
    /// </summary>
    private static void UseBinaryCopyForJournalBatches() =>
        LinqToDB.DataProvider.PostgreSQL.PostgreSQLOptions.Default =
            LinqToDB.DataProvider.PostgreSQL.PostgreSQLOptions.Default with { BulkCopyType = LinqToDB.Data.BulkCopyType.ProviderSpecific };

    /// <summary>
    /// The journal both meters and regions write through, each with a plugin of its own.
    /// </summary>
    /// <remarks>
    /// Tags live in the journal row itself. With the separate tag table, this plugin version's
    /// tag query gathers each event's tags with a subquery that scans the whole tag table, once
    /// per event read: the window projection slowed down as the journal grew (4 s per 500 events
    /// after a few minutes at 20K readings/s), and every tagged write was a round trip of its own.
    /// Our tags are single and few, so reading by ordering and matching the column is cheap.
    /// </remarks>
    private static SqlJournalOptions Journal(string postgres, bool isDefault, string identifier) => new(isDefault, identifier)
    {
        ConnectionString = postgres,
        ProviderName = ProviderName.PostgreSQL15,
        AutoInitialize = true,
        // The projections poll by tag; a short interval keeps window-close → row latency low.
        QueryRefreshInterval = TimeSpan.FromMilliseconds(100),
        TagStorageMode = Akka.Persistence.Sql.Config.TagMode.Csv,
    };

    private static SqlSnapshotOptions Snapshots(string postgres, bool isDefault, string identifier) => new(isDefault, identifier)
    {
        ConnectionString = postgres,
        ProviderName = ProviderName.PostgreSQL15,
        // Migration 0068 makes the table; see there why the plugin must not check at start.
        AutoInitialize = false,
    };

    /// <summary>
    /// Meters (the default plugins) recover through the batched journal and snapshot store, so many
    /// recoveries can run at once: each costs a share of a few statements instead of two or three
    /// round trips of its own, and a fleet waking together is read at thousands of meters a second.
    /// Regions keep the plugin's journal: tens of long-lived entities, recovered once.
    /// </summary>
    private static readonly string BatchedRecovery = $$"""
        akka.persistence {
          journal.sql.class = "{{typeof(BatchedSqlJournal).FullName}}, {{typeof(BatchedSqlJournal).Assembly.GetName().Name}}"
          snapshot-store.sql.class = "{{typeof(BatchedSqlSnapshotStore).FullName}}, {{typeof(BatchedSqlSnapshotStore).Assembly.GetName().Name}}"
          max-concurrent-recoveries = 2000
        }
        """;

    /// <summary>
    /// Remoting, clustering and the PostgreSQL journal for one node. A node without seed nodes
    /// joins itself, which makes the single-process default a one-member cluster.
    /// </summary>
    public static AkkaConfigurationBuilder AddSmartGridCluster(this AkkaConfigurationBuilder builder,
        ClusterMembership cluster, string postgres, IReadOnlyList<string> roles, string? hoconFile = null)
    {
        UseBinaryCopyForJournalBatches();
        if (hoconFile is not null && File.Exists(hoconFile))
            builder.AddHoconFile(hoconFile, HoconAddMode.Prepend);

        builder
            .ConfigureLoggers(l => l.ClearLoggers().AddLogger<AkkaLog>())
            .WithCustomSerializer("smartgrid", SmartGridSerializer.Manifests.Keys, system => new SmartGridSerializer(system))
            .WithRemoting(cluster.Hostname, cluster.Port)
            .WithClustering(new ClusterOptions
            {
                Roles = roles.ToArray(),
                SeedNodes = cluster.SeedNodes.ToArray(),
            })
            .WithSqlPersistence(
                journalOptions: Journal(postgres, isDefault: true, "sql"),
                snapshotOptions: Snapshots(postgres, isDefault: true, "sql"))
            // Regions write to the same tables through a writer of their own: behind the meters'
            // checkpoints (thousands of writes every few seconds) a region's write waited its
            // turn for seconds, and with it the whole window projection.
            .WithSqlPersistence(
                journalOptions: Journal(postgres, isDefault: false, RegionJournalId),
                snapshotOptions: Snapshots(postgres, isDefault: false, RegionJournalId))
            .AddHocon(BatchedRecovery, HoconAddMode.Prepend)
            .WithActors((system, registry) =>
            {
                system.ActorOf(Props.Create<ClusterListener>(), "cluster-listener");
                if (cluster.SeedNodes.Count == 0)
                {
                    var self = Cluster.Get(system);
                    self.Join(self.SelfAddress);
                }
            });
        return builder;
    }
}
