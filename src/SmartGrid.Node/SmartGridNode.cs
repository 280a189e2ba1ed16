using Akka.Hosting;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Projections;
using SmartGrid.Actors.Regional;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway;
using SmartGrid.Gateway.OperatorConsole;
using SmartGrid.Node.Health;
using SmartGrid.Ingestion;
using SmartGrid.Node.Management;
using SmartGrid.Node.Metrics;
using SmartGrid.Simulator;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Notifications;
using SmartGrid.Storage;

namespace SmartGrid.Node;

/// <summary>Composes one node from configuration: the roles decide which parts run here.</summary>
public static class SmartGridNode
{
    private static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--roles"] = "SmartGrid:Roles",
        ["--port"] = "SmartGrid:Cluster:Port",
        ["--kafka"] = "SmartGrid:Kafka:BootstrapServers",
        ["--speed"] = "SmartGrid:Simulator:Speed",
        ["--rate"] = "SmartGrid:Simulator:Rate",
        ["--meters"] = "SmartGrid:Simulator:Meters",
        ["--duration"] = "SmartGrid:Simulator:Duration",
        ["--simulator-mode"] = "SmartGrid:Simulator:Mode",
    };

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        configure?.Invoke(builder);

        var postgres = builder.Configuration.GetConnectionString("Postgres");
        var options = builder.Configuration.BindValidated<SmartGridOptions>(SmartGridOptions.Section, o => o.Validate(postgres));
        var roles = ClusterRoles.Parse(options.Roles);
        builder.Services.AddSingleton(options);

        // Bound for every role: the processor holds readings that reach Kafka by any way to the same
        // rules as ingestion, the clock skew included.
        var ingestion = builder.Configuration.BindValidated<IngestionOptions>(IngestionOptions.Section, o => o.Validate());
        builder.Services.AddSingleton(sp => new ReadingValidator(ingestion.ReadingRules(), sp.GetService<TimeProvider>() ?? TimeProvider.System));

        var kafka = KafkaEndpoint.Resolve(options.Kafka);
        builder.Services.AddSingleton(kafka);

        builder.WebHost.ConfigureKestrel(k =>
        {
            var bind = System.Net.IPAddress.Parse(options.Http.BindAddress);
            if (roles.Contains(ClusterRoles.Ingest)) k.Listen(bind, options.Http.IngestPort);
            if (roles.Contains(ClusterRoles.Gateway)) k.Listen(bind, options.Http.GatewayPort);
            // Without an HTTP role Kestrel would claim its default port 5000; an ephemeral one keeps
            // several such nodes on one machine apart.
            if (!roles.Contains(ClusterRoles.Ingest) && !roles.Contains(ClusterRoles.Gateway) || options.Http.ManagementPort != 0)
                k.Listen(bind, options.Http.ManagementPort);
        });

        // Schema first: every role reads or writes these tables, and two nodes starting together
        // are serialised by the migrator's advisory lock.
        DatabaseMigrator.Migrate(postgres!);
        SeedRegions(postgres!, options.EffectiveRegions);

        builder.Services.AddStorage(postgres!);
        if (roles.Contains(ClusterRoles.Processor))
            builder.Services.AddJournalCleanup(options.Pipeline.JournalCleanupInterval,
                [WindowProjection.ProjectionId, RegionalProjection.ProjectionId], [MeterBucket.PersistenceIdPrefix, RegionActor.PersistenceIdPrefix]);
        builder.Services.AddKafkaProducer(kafka.BootstrapServers);
        builder.Services.AddGridServices(builder.Configuration);
        builder.Services.AddNotifications(builder.Configuration);
        builder.Services.AddHostedService<StatusReporter>();
        builder.Services.AddNodeHealth();
        builder.AddNodeMetrics(roles);
        if (roles.Contains(ClusterRoles.Ingest))
            builder.AddIngestion(kafka.BootstrapServers, $"{Environment.MachineName}:{options.Http.IngestPort}", ingestion);
        if (roles.Contains(ClusterRoles.Simulator))
            builder.AddSimulator(options.Http.LocalIngestUrl);
        if (roles.Contains(ClusterRoles.Gateway))
        {
            builder.AddGateway();
            builder.Services.AddConsoleEvents(kafka.BootstrapServers);
        }

        var processor = ShardPlacement.On(ClusterRoles.Processor, roles);
        builder.Services.AddAkka(options.Cluster.SystemName, (akka, _) =>
        {
            akka.AddSmartGridCluster(options.Cluster, postgres!, roles, Path.Combine(AppContext.BaseDirectory, "hocon", "akka.hocon"))
                // The shard regions on processor nodes, proxies to them on the others.
                .AddMeters(options.Pipeline, processor)
                .AddRegions(options.Pipeline, processor);
            if (processor.HostedHere)
                akka.AddWindowProjection(processor.Role)
                    .AddRegionalProjection(processor.Role)
                    .AddTelemetryStream(options.Pipeline, kafka.BootstrapServers, processor.Role)
                    .AddArchiveStream(options.Pipeline, kafka.BootstrapServers)
                    .AddDrainOnShutdown();
            // Only the gateway asks the managers (acknowledge, resolve); other nodes need no proxies.
            akka.AddGridServices(roles, kafka.BootstrapServers, proxies: roles.Contains(ClusterRoles.Gateway))
                .AddNotifications(roles, kafka.BootstrapServers, proxy: false);
        });
        builder.AddManagement();

        var app = builder.Build();
        app.MapNodeHealth();
        app.MapNodeMetrics();
        if (roles.Contains(ClusterRoles.Ingest)) app.MapIngestion(options.Http.IngestPort);
        if (roles.Contains(ClusterRoles.Gateway)) app.MapGateway(options.Http.GatewayPort);
        app.Lifetime.ApplicationStopped.Register(kafka.Dispose);
        // Restart to processing is measured from the process's start (README "Scale"): the host's share of it.
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            app.Logger.NodeStarted((DateTime.Now - self.StartTime).TotalSeconds);
        });
        if (app.Logger.IsEnabled(LogLevel.Information))
            app.Logger.NodeStarting(string.Join(",", roles), kafka.BootstrapServers);
        return app;
    }

    /// <summary>SmartGrid:Regions (else the defaults) only fills an empty regions table: from then on the operator's admin routes own them.</summary>
    private static void SeedRegions(string postgres, IReadOnlyList<Domain.Grid.RegionSpec> regions)
    {
        using var dataSource = Npgsql.NpgsqlDataSource.Create(postgres);
        RegionCatalog.SeedIfEmptyAsync(dataSource, regions).GetAwaiter().GetResult();
    }
}
