using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using SmartGrid.Kafka;

namespace SmartGrid.Services.Common;

/// <summary>
/// The consumer stream of a manager singleton: records of its topics, one at a time in order,
/// asked to the manager; the offset reaches the committer only after the manager answered that
/// the effect is durable. Stops with the singleton (handover), so the next owner in the same
/// consumer group resumes from the last committed offset; anything after it is redelivered and
/// the manager recognises it. Records that are not valid messages of their topic never reach the
/// manager: they go to the dead-letter topic (see <see cref="ManagerRecordDeserializer"/>).
/// </summary>
internal static class ManagerConsumer
{
    public static (IControl Control, Task<Done> Completion) Run(ConsumerOptions options, Func<string, string, object> parse,
        IActorRef manager, IMaterializer materializer)
    {
        var settings = ConsumerSettings.Create(options.BootstrapServers!, options.GroupId, Deserializers.Utf8,
            new ManagerRecordDeserializer(parse));
        if (options.DeadLetterTopic is { } deadLetters) settings = settings.WithDeadLetterTopic(deadLetters);
        foreach (var (key, value) in options.Properties)
            settings = settings.WithProperty(key, value);
        var timeout = options.ProcessTimeout;
        return KafkaConsumer.CommittableSource(settings, options.Topics)
            .SelectAsync(1, async message =>
            {
                await manager.Ask<RecordHandled>(new ConsumedRecord(message.Record.Topic, message.Key, message.Value.Json, message.Value.Message), timeout);
                return message.CommittableOffset;
            })
            .ToMaterialized(Committer.Sink(CommitterSettings.Default with { MaxInterval = TimeSpan.FromMilliseconds(100) }), Keep.Both)
            .Run(materializer);
    }
}
