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

/// <summary>The processor role's streams and projections, and the shard regions they feed.</summary>
public static class PipelineHosting
{
    public const string ArchiveGroupId = "raw-archive-group";

    public static AkkaConfigurationBuilder AddTelemetryPipeline(this AkkaConfigurationBuilder builder,
        SmartGridOptions options, IReadOnlyList<string> roles, string kafkaBootstrap)
    {
        builder.AddMeters(options, roles).AddRegions(options, roles);
        if (!roles.Contains(NodeRoles.Processor)) return builder;

        var pipeline = options.Pipeline;
        var singleton = new ClusterSingletonOptions { Role = NodeRoles.Processor };
        builder.WithSingleton<WindowProjection>(WindowProjection.ProjectionId, (system, registry, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            var projection = new WindowProjection(registry.Get<RegionActor>(), sp.GetRequiredService<KafkaJson>(),
                sp.GetRequiredService<AggregateStore>(), TimeSpan.FromSeconds(30));
            return Props.Create(() => new ProjectionRunner(
                new ProjectionRunner.Settings(WindowProjection.ProjectionId, MeterActor.WindowsTag, 2_000, TimeSpan.FromMilliseconds(100)),
                sp.GetRequiredService<ProjectionOffsets>(), projection.HandleAsync));
        }, singleton, createProxyToo: false);
        builder.WithSingleton<RegionalProjection>(RegionalProjection.ProjectionId, (system, registry, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            var projection = new RegionalProjection(sp.GetRequiredService<KafkaJson>(), sp.GetRequiredService<RegionalAggregateStore>());
            return Props.Create(() => new ProjectionRunner(
                new ProjectionRunner.Settings(RegionalProjection.ProjectionId, RegionActor.RegionalTag, 500, TimeSpan.FromMilliseconds(100)),
                sp.GetRequiredService<ProjectionOffsets>(), projection.HandleAsync));
        }, singleton, createProxyToo: false);

        builder.AddStartup((system, registry) =>
        {
            var sp = DependencyResolver.For(system).Resolver.GetService<IServiceProvider>();
            var materializer = system.Materializer(namePrefix: "pipeline");
            // The node's validator: the same rules and clock skew as its ingestion.
            var validator = sp.GetRequiredService<ReadingValidator>();
            var consumer = ConsumerSettings.Create(kafkaBootstrap, TelemetryConsumer.GroupId, Deserializers.Utf8,
                    new TelemetryConsumer.ReadingDeserializer(validator, TimeProvider.System))
                .WithDeadLetterTopic(Topics.DeadLetters)
                // Room for two full groups per partition, so the next group fills while one is recorded.
                with { MaxBufferPerPartition = 2 * pipeline.MaxBatch };
            var log = Akka.Event.Logging.GetLogger(system, "SmartGrid.Pipeline");
            var gate = new RegistryGate(sp.GetRequiredService<MeterRegistry>(), sp.GetRequiredService<RegionCatalog>(),
                sp.GetRequiredService<IProducer<string, string>>(), Topics.DeadLetters, log);
            var removals = MemberRemovals.Watch(system, NodeRoles.Processor);
            MeterWake.Start(registry.Get<MeterActor>(), new JournalRecency(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()), pipeline, removals, log);
            var telemetry = RestartingConsumer.Start(TelemetryConsumer.GroupId, () => TelemetryConsumer.Create(consumer, registry.Get<MeterActor>(),
                new TelemetryConsumer.Settings(pipeline.MaxBatch, pipeline.MaxBatchInterval, 2, TimeSpan.FromSeconds(60), pipeline.CheckpointInterval),
                CommitterSettings.Default, materializer, gate, removals.Token), log, materializer);

            var archive = sp.GetRequiredService<RawReadingStore>();
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

            // Stop fetching before the node leaves, let in-flight readings finish and commit.
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-kafka", async () =>
            {
                await Task.WhenAll(telemetry.ShutdownAsync(), archiver.ShutdownAsync());
                return Done.Instance;
            });
        });
        return builder;
    }
}
