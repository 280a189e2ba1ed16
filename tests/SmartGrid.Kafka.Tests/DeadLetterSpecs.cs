using System.Collections.Concurrent;
using System.Text;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class DeadLetterSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    private sealed class IntDeserializer : IDeserializer<int>
    {
        public int Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) =>
            int.Parse(Encoding.UTF8.GetString(data), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Should_send_unreadable_records_to_the_dead_letter_topic_commit_them_and_continue()
    {
        var topic = Kafka.CreateTopic("dlq-src", 2);
        var deadLetters = Kafka.CreateTopic("dlq", 1);
        // Partition 0: good, bad, good, bad (a dead letter last); partition 1: bad first, then good.
        Kafka.Produce(topic,
        [
            ("m-1", "1", 0), ("bad-key-1", "not-a-number", 0), ("m-3", "3", 0), ("bad-key-2", "{broken", 0),
            ("bad-key-3", "x", 1), ("m-5", "5", 1), ("m-6", "6", 1),
        ]);

        var group = KafkaFixture.Unique("dlq");
        var settings = ConsumerSettings.Create(Kafka.BootstrapServers, group, Deserializers.Utf8, new IntDeserializer())
            .WithDeadLetterTopic(deadLetters);
        var values = new ConcurrentQueue<(string Key, int Value)>();

        IControl control = null!;
        Task<Akka.Done> done = null!;
        // Each failure is logged with the record's key.
        await EventFilter.Error(contains: "bad-key-").ExpectAsync(3, async () =>
        {
            (control, done) = KafkaConsumer.CommittableSource(settings, topic)
                .Select(m =>
                {
                    values.Enqueue((m.Key, m.Value));
                    return m.CommittableOffset;
                })
                .ToMaterialized(Committer.Sink(new CommitterSettings { MaxInterval = TimeSpan.FromMilliseconds(50) }), Keep.Both)
                .Run(Materializer);
            await Eventually(() => values.Count == 4, 20, "good records consumed");
        }, TimeSpan.FromSeconds(25));
        // The offsets of the dead letters are committed too, including the trailing one of partition 0.
        await Eventually(() => Kafka.Committed(group, topic, 2) is { } c && c[0] == 4 && c[1] == 3, 15, "offsets committed");
        Assert.Equal(3, control.Metrics.DeadLettered);
        await Within(control.DrainAndShutdown(done), 15, "shutdown");

        Assert.Equal(["m-1", "m-3", "m-5", "m-6"], values.Select(v => v.Key).Order());
        Assert.Equal([1, 3, 5, 6], values.Select(v => v.Value).Order());

        // The dead letters carry the original key and raw value, and say why.
        var dead = ReadAll(deadLetters, 3);
        Assert.Equal(["bad-key-1", "bad-key-2", "bad-key-3"], dead.Select(d => d.Key).Order());
        var first = dead.Single(d => d.Key == "bad-key-1");
        Assert.Equal("not-a-number", first.Value);
        Assert.Contains("value deserialization failed", first.Reason);
        Assert.Contains("FormatException", first.Reason);
        Assert.Equal(topic, first.SourceTopic);
    }

    [Fact]
    public async Task Should_log_and_skip_unreadable_records_without_a_dead_letter_topic()
    {
        var topic = Kafka.CreateTopic("skip", 1);
        Kafka.Produce(topic, [("a", "1", 0), ("broken-key", "oops", 0), ("c", "3", 0)]);
        var settings = ConsumerSettings.Create(Kafka.BootstrapServers, KafkaFixture.Unique("skip"), Deserializers.Utf8, new IntDeserializer());

        var (control, values) = EventFilter.Error(contains: "broken-key").Expect(1, () =>
            KafkaConsumer.PlainSource(settings, topic).Take(2).Select(r => r.Message.Value)
                .ToMaterialized(Sink.Seq<int>(), Keep.Both).Run(Materializer));
        Assert.Equal([1, 3], await Within(values, 20, "consuming"));
        await control.Shutdown();
    }

    private List<(string Key, string Value, string Reason, string SourceTopic)> ReadAll(string topic, int count)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers,
            GroupId = KafkaFixture.Unique("dlq-reader"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var records = new List<(string, string, string, string)>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (records.Count < count && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null)
                continue;
            string Header(string name) => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(name));
            records.Add((r.Message.Key, r.Message.Value, Header("reason"), Header("source-topic")));
        }
        return records;
    }
}
