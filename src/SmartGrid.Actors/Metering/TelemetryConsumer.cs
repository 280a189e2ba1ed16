using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using SmartGrid.Actors.Hosting;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Kafka raw_readings → meters, with back-pressure and exactly-once effect. One sub-stream per
/// assigned partition groups readings for a short time, sends each meter its share in one
/// message and waits until every meter of the group has persisted (bounded parallelism, order
/// kept), and only then lets the group's last offset reach the committer. After a crash the
/// uncommitted tail is read again and the meters drop what they already hold.
/// </summary>
public static class TelemetryConsumer
{
    public const string GroupId = "stream-processor-group";

    public sealed record Settings(int MaxBatch, TimeSpan MaxBatchInterval, int GroupsInFlight, TimeSpan AskTimeout);

    /// <summary>One pass of the stream: completes (or fails) when the consumer stops; see <see cref="Hosting.RestartingConsumer"/>.</summary>
    public static Source<Done, IControl> Create(ConsumerSettings<string, TelemetryReading> consumer, IActorRef meters,
        Settings settings, CommitterSettings committer, IMaterializer materializer) =>
        KafkaConsumer.CommittablePartitionedSource(consumer, [Topics.RawReadings])
            .SelectAsyncUnordered(64, partition => partition.Item2
                .GroupedWithin(settings.MaxBatch, settings.MaxBatchInterval)
                .SelectAsync(settings.GroupsInFlight, group => RecordAsync(group.ToList(), meters, settings.AskTimeout))
                .RunWith(Committer.Sink(committer), materializer));

    private static async Task<CommittableOffset> RecordAsync(List<CommittableMessage<string, TelemetryReading>> group, IActorRef meters, TimeSpan timeout)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var replies = await Task.WhenAll(group.GroupBy(m => m.Value.MeterId).Select(byMeter =>
            meters.Ask<ReadingsRecorded>(new RecordReadings(byMeter.Key, byMeter.Select(m => m.Value).ToList()), timeout)));
        PipelineMetrics.PersistLatency.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        PipelineMetrics.ReadingsAccepted.Add(replies.Sum(r => r.Accepted));
        PipelineMetrics.ReadingsDuplicate.Add(replies.Sum(r => r.Duplicates));
        PipelineMetrics.ReadingsTooLate.Add(replies.Sum(r => r.TooLate));
        return group[^1].CommittableOffset;
    }

    /// <summary>
    /// Reads a raw_readings value with the same rules as the HTTP ingestion, so a record put on
    /// the topic by any producer is held to the contract; a bad one throws, and the source
    /// sends it to the dead-letter topic with its key and the reason.
    /// </summary>
    public sealed class ReadingDeserializer(ReadingValidator validator, TimeProvider time) : IDeserializer<TelemetryReading>
    {
        public TelemetryReading Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
        {
            if (isNull) throw new InvalidDataException("null value");
            using var doc = JsonDocument.Parse(data.ToArray());
            var result = validator.Validate(doc.RootElement, time.GetUtcNow());
            return result.Reading ?? throw new InvalidDataException(string.Join("; ", result.Errors.Select(e => $"{e.Field}: {e.Reason}")));
        }
    }
}
