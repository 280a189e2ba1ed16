using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.DependencyInjection;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Projections;
using SmartGrid.Actors.Regional;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// The processor's projections and Kafka streams, one registration each; the shard regions they
/// feed are <see cref="MeterBucketHosting.AddMeters"/> and <see cref="RegionActorHosting.AddRegions"/>.
/// </summary>
public static class PipelineHosting
{
    public const string ArchiveGroupId = "raw-archive-group";

    /// <summary>The window projection: the meters' closed windows (journal tag window-emitted) to the regions, Kafka and the aggregate tables.</summary>
    public static AkkaConfigurationBuilder AddWindowProjection(this AkkaConfigurationBuilder builder, string role) =>
        builder.WithSingleton<WindowProjection>(WindowProjection.ProjectionId, (system, registry, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            var projection = new WindowProjection(registry.Get<RegionActor>(), sp.GetRequiredService<KafkaJson>(),
                sp.GetRequiredService<AggregateStore>(), TimeSpan.FromSeconds(30));
            return Props.Create(() => new ProjectionRunner(
                new ProjectionRunner.Settings(WindowProjection.ProjectionId, MeterBucket.WindowsTag, 2_000, TimeSpan.FromMilliseconds(100),
                    FirstCheckpoint.Get(system).WaitAsync),
                sp.GetRequiredService<ProjectionOffsets>(), projection.HandleAsync));
        }, new ClusterSingletonOptions { Role = role }, createProxyToo: false);

    /// <summary>The regional projection: the regions' windows (journal tag regional-emitted) to Kafka regional_aggregates and their tables.</summary>
    public static AkkaConfigurationBuilder AddRegionalProjection(this AkkaConfigurationBuilder builder, string role) =>
        builder.WithSingleton<RegionalProjection>(RegionalProjection.ProjectionId, (system, _, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            var projection = new RegionalProjection(sp.GetRequiredService<KafkaJson>(), sp.GetRequiredService<RegionalAggregateStore>());
            return Props.Create(() => new ProjectionRunner(
                new ProjectionRunner.Settings(RegionalProjection.ProjectionId, RegionActor.RegionalTag, 500, TimeSpan.FromMilliseconds(100),
                    FirstCheckpoint.Get(system).WaitAsync),
                sp.GetRequiredService<ProjectionOffsets>(), projection.HandleAsync));
        }, new ClusterSingletonOptions { Role = role }, createProxyToo: false);

    /// <summary>
    /// raw_readings to the meters: one back-pressured sub-stream per partition, offsets committed after each checkpoint.
    /// The cluster decides which node reads which partition (<see cref="TelemetryPartitions"/>), not a consumer group.
    /// </summary>
    public static AkkaConfigurationBuilder AddTelemetryStream(this AkkaConfigurationBuilder builder, PipelineSettings pipeline, string kafkaBootstrap, string role) =>
        builder.AddStartup((system, registry) =>
        {
            var (consumer, gate, log, materializer) = RawReadings(system, pipeline, kafkaBootstrap);
            var sp = DependencyResolver.For(system).Resolver.GetService<IServiceProvider>();
            var removals = MemberRemovals.Watch(system, role, registry.Get<MeterBucket>());
            MeterWake.Start(registry.Get<MeterBucket>(), new JournalRecency(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()), pipeline, removals, log);
            var partitions = TelemetryPartitions.Watch(system, role, registry.Get<MeterBucket>());
            var telemetry = RestartingConsumer.Start(TelemetryConsumer.GroupId, () => TelemetryConsumer.Create(consumer, partitions, registry.Get<MeterBucket>(),
                new TelemetryConsumer.Settings(pipeline.MaxBatch, pipeline.MaxBatchInterval, 2, TimeSpan.FromSeconds(60), pipeline.CheckpointInterval),
                CommitterSettings.Default, materializer, gate, () => removals.Current), log, materializer);
            ConsumerDrain.Get(system).Add(telemetry);
        });

    /// <summary>raw_readings to the raw_readings table (idempotent), in a consumer group of its own.</summary>
    public static AkkaConfigurationBuilder AddArchiveStream(this AkkaConfigurationBuilder builder, PipelineSettings pipeline, string kafkaBootstrap) =>
        builder.AddStartup((system, _) =>
        {
            var (consumer, gate, log, materializer) = RawReadings(system, pipeline, kafkaBootstrap);
            var archive = DependencyResolver.For(system).Resolver.GetService<IServiceProvider>().GetRequiredService<RawReadingStore>();
            var archiver = RestartingConsumer.Start(ArchiveGroupId, () => KafkaConsumer.CommittableSource(consumer.WithGroupId(ArchiveGroupId), [Topics.RawReadings])
                .GroupedWithin(5_000, TimeSpan.FromMilliseconds(500))
                .SelectAsync(1, async group =>
                {
                    var list = group.ToList();
                    // The archive keeps what the meters count: the registry's region, refused records left out.
                    await archive.InsertAsync(await gate.AdmitAsync(list, deadLetter: false));
                    // The source merges partitions: a group's last offset speaks for its own partition only.
                    return list.GroupBy(m => m.CommittableOffset.Partition).Select(p => p.Last().CommittableOffset).ToList();
                })
                .SelectMany(offsets => offsets)
                .Via(Committer.Flow(CommitterSettings.Default))
                .Select(_ => Done.Instance), log, materializer);
            ConsumerDrain.Get(system).Add(archiver);
        });

    /// <summary>On leaving, the node's Kafka streams stop fetching, let in-flight readings finish and commit, before the node leaves the cluster.</summary>
    public static AkkaConfigurationBuilder AddDrainOnShutdown(this AkkaConfigurationBuilder builder) =>
        builder.AddStartup((system, _) =>
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-kafka", async () =>
            {
                await ConsumerDrain.Get(system).DrainAsync();
                return Done.Instance;
            }));

    /// <summary>What both raw_readings consumers share: the settings, the registry gate, the log and a materializer.</summary>
    private static (ConsumerSettings<string, TelemetryReading> Consumer, RegistryGate Gate, Akka.Event.ILoggingAdapter Log, IMaterializer Materializer) RawReadings(
        ActorSystem system, PipelineSettings pipeline, string kafkaBootstrap)
    {
        var sp = DependencyResolver.For(system).Resolver.GetService<IServiceProvider>();
        // The node's validator: the same rules and clock skew as its ingestion.
        var validator = sp.GetRequiredService<ReadingValidator>();
        var consumer = ConsumerSettings.Create(kafkaBootstrap, TelemetryConsumer.GroupId, Deserializers.Utf8,
                new TelemetryConsumer.ReadingDeserializer(validator, TimeProvider.System))
            .WithDeadLetterTopic(Topics.DeadLetters)
            .WithProperty("session.timeout.ms", ((int)pipeline.ConsumerSessionTimeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture))
            // Room for two full groups per partition, so the next group fills while one is recorded.
            with { MaxBufferPerPartition = 2 * pipeline.MaxBatch };
        var log = Akka.Event.Logging.GetLogger(system, "SmartGrid.Pipeline");
        var gate = new RegistryGate(sp.GetRequiredService<MeterRegistry>(), sp.GetRequiredService<RegionCatalog>(),
            sp.GetRequiredService<IProducer<string, string>>(), Topics.DeadLetters, log);
        return (consumer, gate, log, system.Materializer(namePrefix: "pipeline"));
    }
}

/// <summary>The node's Kafka consumers that <see cref="PipelineHosting.AddDrainOnShutdown"/> stops before the node leaves.</summary>
public sealed class ConsumerDrain : IExtension
{
    private readonly List<RestartingConsumer> _consumers = [];

    public static ConsumerDrain Get(ActorSystem system) => system.WithExtension<ConsumerDrain, ConsumerDrainProvider>();

    public void Add(RestartingConsumer consumer)
    {
        lock (_consumers) _consumers.Add(consumer);
    }

    public Task DrainAsync()
    {
        lock (_consumers) return Task.WhenAll(_consumers.Select(c => c.ShutdownAsync()));
    }
}

public sealed class ConsumerDrainProvider : ExtensionIdProvider<ConsumerDrain>
{
    public override ConsumerDrain CreateExtension(ExtendedActorSystem system) => new();
}
