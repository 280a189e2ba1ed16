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
/// A fleet of fresh meters larger than the journal's write queue (the plugin's buffer-size), all
/// reporting at once through the real telemetry stream: at a soak's 50,000 fresh meters against
/// 20,000 places, the queue refused the surplus, the meters' persists failed and the stream restarted
/// again and again. Here, a 40-place queue and 600 meters: every write waits for room instead, and
/// the stream commits everything on its first pass.
/// </summary>
public sealed class JournalBackPressureSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private const int Meters = 600;
    private const int JournalQueue = 40;
    private readonly ITestOutputHelper _output = output;

    private static string MeterId(int meter) => $"MTR-{90_000_000 + meter:D8}";

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        // Small batches, one writer: the plugin takes few writes off its queue at a time, so the queue is what overflows.
        builder.AddHocon($$"""
            akka.persistence.journal.sql {
              buffer-size = {{JournalQueue}}
              batch-size = 5
              parallelism = 1
            }
            """, HoconAddMode.Prepend);
        builder.AddMeters(new PipelineSettings { IdleClose = TimeSpan.FromHours(1), PassivateAfter = TimeSpan.FromHours(1) },
            ShardPlacement.On(ProcessorRole, [ProcessorRole]));
    }

    [Fact]
    public async Task Should_make_writes_beyond_the_journal_queue_wait_so_a_fleet_of_fresh_meters_is_processed_exactly_once_on_the_first_pass()
    {
        var ct = TestContext.Current.CancellationToken;
        using var broker = EmbeddedKafkaBroker.Start([(Topics.RawReadings, 2), (Topics.DeadLetters, 1)]);
        var now = DateTimeOffset.UtcNow;
        var at = now - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerSecond) - TimeSpan.FromMinutes(5);
        // Two readings a meter, ten seconds apart: after a first small group, the rest of the fleet comes in one or two groups.
        var readings = Enumerable.Range(0, 2).SelectMany(tick => Enumerable.Range(0, Meters).Select(m => RawReadings.Reading(MeterId(m), at.AddSeconds(10 * tick)))).ToList();
        RawReadings.Produce(broker.BootstrapServers, readings);

        var group = $"back-pressure-{Guid.NewGuid():N}";
        var consumer = ConsumerSettings.Create(broker.BootstrapServers, group, Deserializers.Utf8,
            new TelemetryConsumer.ReadingDeserializer(new ReadingValidator(), TimeProvider.System)) with { MaxBufferPerPartition = 2_000 };
        var meters = ActorRegistry.Get<MeterBucket>();
        var (control, pass) = TelemetryConsumer.Create(consumer, PartitionAssignment.All(Topics.RawReadings, 2), meters,
                new TelemetryConsumer.Settings(1_000, TimeSpan.FromMilliseconds(500), 2, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500)),
                CommitterSettings.Default, Sys.Materializer())
            .ToMaterialized(Sink.Ignore<Akka.Done>(), Keep.Both)
            .Run(Sys.Materializer());

        using var offsets = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = group }).Build();
        var partitions = Enumerable.Range(0, 2).Select(p => new TopicPartition(Topics.RawReadings, p)).ToList();
        await AwaitConditionAsync(() => Task.FromResult(pass.IsCompleted || offsets.Committed(partitions, TimeSpan.FromSeconds(10)).Sum(c => Math.Max(0, c.Offset.Value)) == readings.Count),
            TimeSpan.FromMinutes(4), TimeSpan.FromMilliseconds(500), cancellationToken: ct);

        // A pass that ended failed: in the node that is a consumer restart, which re-reads every partition from its commits.
        Assert.False(pass.IsCompleted, $"the stream ended before committing everything: {pass.Exception?.GetBaseException().Message}");
        await control.Shutdown();

        // Exactly once: each meter holds both its readings and no duplicate (nothing was read twice), and they are in its journal.
        var statuses = await Task.WhenAll(Enumerable.Range(0, Meters).Select(m => meters.Ask<MeterStatus>(new GetMeterStatus(MeterId(m)), Patience, ct)));
        Assert.All(statuses, s => Assert.Equal((2L, 0L), (s.AcceptedTotal, s.DuplicatesTotal)));
        var journalled = new List<long>();
        for (var m = 0; m < Meters; m++) journalled.Add(await Database.JournalRowsAsync(MeterBucket.PersistenceIdPrefix + MeterId(m)));
        Assert.All(journalled, rows => Assert.InRange(rows, 1, 2));
        _output.WriteLine($"{Meters} fresh meters through a {JournalQueue}-place journal queue: {journalled.Sum()} journal rows");
    }
}
