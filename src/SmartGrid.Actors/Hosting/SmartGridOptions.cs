using SmartGrid.Domain.Grid;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// Everything a node reads from configuration (section "SmartGrid", plus ConnectionStrings).
/// Defaults describe the single-node development setup; <see cref="Validate"/> fails start-up
/// with one clear line when something required is missing.
/// </summary>
public sealed class SmartGridOptions
{
    public const string Section = "SmartGrid";

    public string Roles { get; set; } = NodeRoles.All;
    public ClusterSettings Cluster { get; set; } = new();
    public KafkaSettings Kafka { get; set; } = new();
    public HttpSettings Http { get; set; } = new();
    public PipelineSettings Pipeline { get; set; } = new();
    public List<RegionSpec> Regions { get; set; } = [];

    public IReadOnlyList<RegionSpec> EffectiveRegions => Regions.Count > 0 ? Regions : Domain.Grid.Regions.Defaults;

    public sealed class ClusterSettings
    {
        public string Hostname { get; set; } = "127.0.0.1";
        /// <summary>0 picks a free port; a node with no seed nodes joins itself.</summary>
        public int Port { get; set; } = 4053;
        public List<string> SeedNodes { get; set; } = [];
        public string SystemName { get; set; } = "smartgrid";
    }

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
    }

    public sealed class PipelineSettings
    {
        /// <summary>How long a closed window still accepts late readings, by event time.</summary>
        public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(1);
        /// <summary>A meter silent this long (wall clock) closes its open windows.</summary>
        public TimeSpan IdleClose { get; set; } = TimeSpan.FromSeconds(30);
        /// <summary>
        /// Readings grouped per partition before each meter gets its share in one message. Two
        /// seconds add at most that much to a reading's way into its window, which closes a minute
        /// later anyway.
        /// </summary>
        public int MaxBatch { get; set; } = 20_000;
        public TimeSpan MaxBatchInterval { get; set; } = TimeSpan.FromSeconds(2);
        /// <summary>
        /// How often each partition's meters persist what they applied, and the offsets behind it
        /// are committed. The journal, not the actors, is the wall: one write per meter per
        /// checkpoint, however many readings it got. A crash replays at most this much.
        /// </summary>
        public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);
        public int SnapshotEvery { get; set; } = 100;
        /// <summary>
        /// A meter without messages this long (wall clock) leaves memory once nothing it holds is
        /// unpublished, after a snapshot of its last state; its next reading brings it back from that row.
        /// </summary>
        public TimeSpan PassivateAfter { get; set; } = TimeSpan.FromMinutes(5);
        /// <summary>
        /// A region's snapshot holds every meter's window for the whole retention (tens of MB at
        /// thousands of meters), while its events are one projection batch each: snapshotting as
        /// often as a meter made serializing snapshots a good part of the node's work.
        /// </summary>
        public int RegionSnapshotEvery { get; set; } = 1_000;
    }

    public void Validate(string? postgres)
    {
        if (string.IsNullOrWhiteSpace(postgres))
            throw new InvalidOperationException("ConnectionStrings:Postgres is not set (./build.sh services up exports it; or set ConnectionStrings__Postgres)");
        NodeRoles.Parse(Roles);
        if (Cluster.Port is < 0 or > 65535) throw new InvalidOperationException($"SmartGrid:Cluster:Port {Cluster.Port} is not a port");
        if (string.IsNullOrWhiteSpace(Kafka.BootstrapServers)) throw new InvalidOperationException("SmartGrid:Kafka:BootstrapServers is empty (use 'embedded' for development)");
        if (Pipeline.PassivateAfter <= TimeSpan.Zero)
            throw new InvalidOperationException($"SmartGrid:Pipeline:PassivateAfter must be positive (is {Pipeline.PassivateAfter})");
        foreach (var r in EffectiveRegions)
            if (r.CapacityKw <= 0) throw new InvalidOperationException($"region {r.Name}: CapacityKw must be > 0");
    }
}
