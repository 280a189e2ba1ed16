using SmartGrid.Actors.Hosting;
using SmartGrid.Contracts;
using SmartGrid.Domain.Grid;
using SmartGrid.Ingestion;

namespace SmartGrid.Node;

/// <summary>
/// Everything a node reads from configuration (section "SmartGrid", plus ConnectionStrings).
/// Defaults describe the single-node development setup; <see cref="Validate"/> fails start-up
/// with one clear line when something required is missing.
/// </summary>
public sealed class SmartGridOptions
{
    public const string Section = "SmartGrid";

    public string Roles { get; set; } = ClusterRoles.All;
    public ClusterMembership Cluster { get; set; } = new();
    public KafkaSettings Kafka { get; set; } = new();
    public HttpSettings Http { get; set; } = new();
    public PipelineSettings Pipeline { get; set; } = new();
    public List<RegionSpec> Regions { get; set; } = [];

    public IReadOnlyList<RegionSpec> EffectiveRegions => Regions.Count > 0 ? Regions : Domain.Grid.Regions.Defaults;

    public sealed class KafkaSettings
    {
        /// <summary>"embedded" starts librdkafka's mock cluster inside the node; anything else is a real bootstrap list.</summary>
        public string BootstrapServers { get; set; } = "embedded";
        /// <summary>Where an embedded broker writes its random address, so kcat and other processes can find it.</summary>
        public string BootstrapFile { get; set; } = ".data/kafka/bootstrap";
    }

    public sealed class HttpSettings
    {
        public int IngestPort { get; set; } = 3001;
        public int GatewayPort { get; set; } = 3000;
        /// <summary>Health endpoints on a port of their own; 0 = none unless the node has no HTTP role (then an ephemeral one).</summary>
        public int ManagementPort { get; set; }
        public string BindAddress { get; set; } = "127.0.0.1";

        /// <summary>This node's ingestion route as its own simulator reaches it: a wildcard bind address on loopback.</summary>
        public Uri LocalIngestUrl
        {
            get
            {
                var host = BindAddress is "0.0.0.0" or "::" or "[::]" ? "127.0.0.1" : BindAddress;
                return new UriBuilder("http", host, IngestPort, IngestionHosting.Route).Uri;
            }
        }
    }

    public SmartGridOptions Validate(string? postgres)
    {
        if (string.IsNullOrWhiteSpace(postgres))
            throw new InvalidOperationException("ConnectionStrings:Postgres is not set (./build.sh services up exports it; or set ConnectionStrings__Postgres)");
        ClusterRoles.Parse(Roles);
        if (Cluster.Port is < 0 or > 65535) throw new InvalidOperationException($"SmartGrid:Cluster:Port {Cluster.Port} is not a port");
        if (string.IsNullOrWhiteSpace(Kafka.BootstrapServers)) throw new InvalidOperationException("SmartGrid:Kafka:BootstrapServers is empty (use 'embedded' for development)");
        if (Pipeline.PassivateAfter <= TimeSpan.Zero)
            throw new InvalidOperationException($"SmartGrid:Pipeline:PassivateAfter must be positive (is {Pipeline.PassivateAfter})");
        if (Pipeline.JournalCleanupInterval <= TimeSpan.Zero)
            throw new InvalidOperationException($"SmartGrid:Pipeline:JournalCleanupInterval must be positive (is {Pipeline.JournalCleanupInterval})");
        if (Pipeline.ConsumerSessionTimeout < TimeSpan.FromSeconds(2))
            throw new InvalidOperationException($"SmartGrid:Pipeline:ConsumerSessionTimeout must be at least 2 s, twice the 1 s Kafka heartbeat (is {Pipeline.ConsumerSessionTimeout})");
        foreach (var r in EffectiveRegions)
            if (r.CapacityKw <= 0) throw new InvalidOperationException($"region {r.Name}: CapacityKw must be > 0");
        return this;
    }
}
