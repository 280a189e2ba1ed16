using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// A partition run that starts behind a backlog (a restart, a failover takeover, a replay) checkpoints, and so commits,
/// the end of that backlog as soon as it is recorded, not at the end of the checkpoint interval: here the interval is an
/// hour, so only that catch-up checkpoint can commit the backlog. Past it, the run is back to the interval: readings that
/// arrive later wait for it, and steady state gets no extra checkpoint.
/// </summary>
public sealed class CatchUpCheckpointSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private const int Meters = 300;
    private const int MaxBatch = 200;

    /// <summary>Each spec its own meters: the specs share the database, and a meter persisted by one would count twice in the other.</summary>
    private static string MeterId(int fleet, int meter) => $"MTR-{fleet + meter:D8}";

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        builder.AddMeters(new PipelineSettings { IdleClose = TimeSpan.FromHours(1), PassivateAfter = TimeSpan.FromHours(1) },
            ShardPlacement.On(ProcessorRole, [ProcessorRole]));
    }

    [Fact]
    public async Task Should_commit_the_backlog_a_run_started_behind_once_it_is_recorded_and_later_readings_only_at_the_interval()
    {
        var ct = TestContext.Current.CancellationToken;
        var groupInterval = TimeSpan.FromSeconds(1);
        const int fleet = 91_000_000;
        using var run = await RunBehindBacklogAsync(fleet, groupInterval, ct);

        // Caught up: a later reading is recorded (its meter holds it) but waits for the interval's checkpoint.
        var meters = ActorRegistry.Get<MeterBucket>();
        var later = Readings(fleet, run.At.AddMinutes(1), ticks: 1).Take(1).ToList();
        RawReadings.Produce(run.Broker.BootstrapServers, later);
        await AwaitConditionAsync(async () => (await meters.Ask<MeterStatus>(new GetMeterStatus(later[0].MeterId), Patience, ct)).AcceptedTotal == 3,
            TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(250), cancellationToken: ct);
        // A few group intervals more, for a checkpoint that would follow the group.
        await Task.Delay(3 * groupInterval, ct);
        Assert.Equal(run.Backlog.Count, run.Committed());
        await run.Control.Shutdown();

        var statuses = await Task.WhenAll(Enumerable.Range(1, Meters - 1).Select(m => meters.Ask<MeterStatus>(new GetMeterStatus(MeterId(fleet, m)), Patience, ct)));
        Assert.All(statuses, s => Assert.Equal((2L, 0L), (s.AcceptedTotal, s.DuplicatesTotal)));
    }

    /// <summary>
    /// With an hour for a group to close, no group the backlog leaves part-full would ever close: only the partition's
    /// high watermark, read when the run fetched its first reading, can end the backlog's last group.
    /// </summary>
    [Fact]
    public async Task Should_commit_the_backlog_a_run_started_behind_without_waiting_for_the_group_interval()
    {
        using var run = await RunBehindBacklogAsync(92_000_000, TimeSpan.FromHours(1), TestContext.Current.CancellationToken);
        await run.Control.Shutdown();
    }

    /// <summary>
    /// Starts a run behind 600 readings against groups of 200 (a first group of 100, two full groups, then 100 that close
    /// a group before it is full, the end of the backlog), with an hour's checkpoint interval, and waits for the backlog's commit.
    /// </summary>
    private async Task<BehindBacklog> RunBehindBacklogAsync(int fleet, TimeSpan groupInterval, CancellationToken ct)
    {
        var broker = EmbeddedKafkaBroker.Start([(Topics.RawReadings, 1), (Topics.DeadLetters, 1)]);
        var now = DateTimeOffset.UtcNow;
        var at = now - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerSecond) - TimeSpan.FromMinutes(5);
        var backlog = Readings(fleet, at, ticks: 2);
        RawReadings.Produce(broker.BootstrapServers, backlog);

        var group = $"catch-up-{Guid.NewGuid():N}";
        var consumer = ConsumerSettings.Create(broker.BootstrapServers, group, Deserializers.Utf8,
            new TelemetryConsumer.ReadingDeserializer(new ReadingValidator(), TimeProvider.System));
        var (control, pass) = TelemetryConsumer.Create(consumer, PartitionAssignment.All(Topics.RawReadings, 1), ActorRegistry.Get<MeterBucket>(),
                new TelemetryConsumer.Settings(MaxBatch, groupInterval, 2, TimeSpan.FromSeconds(60), CheckpointInterval: TimeSpan.FromHours(1)),
                CommitterSettings.Default, Sys.Materializer())
            .ToMaterialized(Sink.Ignore<Akka.Done>(), Keep.Both)
            .Run(Sys.Materializer());

        var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = group }).Build();
        var run = new BehindBacklog(broker, offsets, new TopicPartition(Topics.RawReadings, 0), control, backlog, at);
        await AwaitConditionAsync(() => Task.FromResult(pass.IsCompleted || run.Committed() == backlog.Count),
            TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(250), cancellationToken: ct);
        Assert.False(pass.IsCompleted, $"the stream ended: {pass.Exception?.GetBaseException().Message}");
        return run;
    }

    private sealed record BehindBacklog(EmbeddedKafkaBroker Broker, IConsumer<Ignore, Ignore> Offsets, TopicPartition Partition, IControl Control,
        List<TelemetryReading> Backlog, DateTimeOffset At) : IDisposable
    {
        public long Committed() => Offsets.Committed([Partition], TimeSpan.FromSeconds(10)).Single().Offset.Value;

        public void Dispose()
        {
            Offsets.Dispose();
            Broker.Dispose();
        }
    }

    private static List<TelemetryReading> Readings(int fleet, DateTimeOffset at, int ticks) =>
        Enumerable.Range(0, ticks).SelectMany(tick => Enumerable.Range(0, Meters).Select(m => RawReadings.Reading(MeterId(fleet, m), at.AddSeconds(10 * tick)))).ToList();
}
