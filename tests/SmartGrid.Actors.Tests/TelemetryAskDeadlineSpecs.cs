using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// The telemetry stream's asks share one timeout per slice of sends instead of a timer each (TelemetryConsumer's
/// AskDeadlines). A meter that never answers must still fail the pass with the ask timeout, naming the meter, as
/// an ask with its own timeout did: a lost timeout would hold the partition's group (and its commits) forever.
/// </summary>
public sealed class TelemetryAskDeadlineSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    [Fact]
    public async Task Should_fail_the_pass_with_an_ask_timeout_naming_the_meter_when_no_meter_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        using var broker = EmbeddedKafkaBroker.Start([(Topics.RawReadings, 1), (Topics.DeadLetters, 1)]);
        KafkaNative.EnsureLoaded();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            var reading = new TelemetryReading
            {
                MeterId = "MTR-97000001", Timestamp = DateTimeOffset.UtcNow.AddMinutes(-1), Voltage = 230, Current = 4.35, PowerKw = 1.0,
                EnergyKwh = 1.0 / 360, PowerFactor = 0.95, Frequency = 50, Region = "Nashik",
            };
            producer.Produce(Topics.RawReadings, new Message<string, string> { Key = reading.MeterId, Value = System.Text.Json.JsonSerializer.Serialize(reading) });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        // Takes every message and answers none, like a meter on a node that hangs.
        var silent = CreateTestProbe();
        var consumer = ConsumerSettings.Create(broker.BootstrapServers, $"deadline-{Guid.NewGuid():N}", Deserializers.Utf8,
            new TelemetryConsumer.ReadingDeserializer(new ReadingValidator(), TimeProvider.System));
        var (control, pass) = TelemetryConsumer.Create(consumer, PartitionAssignment.All(Topics.RawReadings, 1), silent.Ref,
                new TelemetryConsumer.Settings(100, TimeSpan.FromMilliseconds(200), 2, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500)),
                CommitterSettings.Default, Sys.Materializer())
            .ToMaterialized(Sink.Ignore<Akka.Done>(), Keep.Both)
            .Run(Sys.Materializer());

        var recorded = await silent.ExpectMsgAsync<RecordReadings>(TimeSpan.FromSeconds(30), cancellationToken: ct);
        Assert.Equal((MeterMessageExtractor.ShardOf("MTR-97000001"), "MTR-97000001"), (recorded.BucketId, Assert.Single(recorded.Meters).MeterId));
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => pass.WaitAsync(TimeSpan.FromMinutes(1), ct));
        await control.Shutdown();

        var timeout = Assert.IsType<Akka.Actor.AskTimeoutException>(failure.GetBaseException());
        Assert.Contains("MTR-97000001", timeout.Message);
        Assert.Contains($"bucket {recorded.BucketId}", timeout.Message);
    }
}
