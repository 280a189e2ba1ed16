using System.Collections.Concurrent;
using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class ProducerSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_emit_results_in_order_with_their_pass_through_for_zero_one_or_many_records()
    {
        var topic = Kafka.CreateTopic("produce", 2);
        var settings = ProducerSettings.ForStrings(Kafka.BootstrapServers);
        var messages = new List<ProducerMessage<string, string, int>>();
        for (var i = 0; i < 300; i++)
        {
            messages.Add((i % 3) switch
            {
                0 => ProducerMessage.Single(new ProducerRecord<string, string>(topic, $"k{i}", $"v{i}"), i),
                1 => ProducerMessage.Multi([new ProducerRecord<string, string>(topic, $"k{i}", $"v{i}a"),
                    new ProducerRecord<string, string>(topic, $"k{i}", $"v{i}b")], i),
                _ => ProducerMessage.PassThrough<string, string, int>(i),
            });
        }

        var results = await Within(Source.From(messages)
            .Via(KafkaProducer.Flow<string, string, int>(settings with { MaxInFlight = 16 }))
            .RunWith(Sink.Seq<ProducerResult<string, string, int>>(), Materializer), 20, "producing");

        Assert.Equal(Enumerable.Range(0, 300), results.Select(r => r.PassThrough));
        Assert.All(results.OfType<ProducerResult<string, string, int>.Single>(),
            r => Assert.Equal(PersistenceStatus.Persisted, r.Result.Status));
        Assert.All(results.OfType<ProducerResult<string, string, int>.Multi>(), r => Assert.Equal(2, r.Results.Count));
        Assert.Equal(100, results.OfType<ProducerResult<string, string, int>.PassThroughOnly>().Count());
        var ends = Kafka.EndOffsets(topic, 2);
        Assert.Equal(100 + 200, ends.Values.Sum());
    }

    [Fact]
    public async Task Should_consume_produce_and_then_commit_with_the_pass_through()
    {
        var source = Kafka.CreateTopic("ptc-in", 2);
        var target = Kafka.CreateTopic("ptc-out", 2);
        Kafka.Produce(source, Enumerable.Range(0, 100).Select(i => ($"k{i}", $"{i}", (int?)(i % 2))));
        var group = KafkaFixture.Unique("ptc");

        // Even values are copied to the target topic, odd ones skipped; every offset is committed after its produce.
        var (control, done) = KafkaConsumer.CommittableSource(StringConsumer(group), source)
            .Select(m => int.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture) % 2 == 0
                ? ProducerMessage.Single(new ProducerRecord<string, string>(target, m.Key, m.Value), m.CommittableOffset)
                : ProducerMessage.PassThrough<string, string, CommittableOffset>(m.CommittableOffset))
            .Via(KafkaProducer.Flow<string, string, CommittableOffset>(ProducerSettings.ForStrings(Kafka.BootstrapServers)))
            .Select(r => r.PassThrough)
            .Take(100)
            .ToMaterialized(Committer.Sink(), Keep.Both)
            .Run(Materializer);
        await Within(done, 20, "copying");
        await control.Shutdown();

        Assert.Equal(50, Kafka.EndOffsets(target, 2).Values.Sum());
        Assert.Equal(100, Kafka.Committed(group, source, 2).Values.Sum());
    }

    [Fact]
    public async Task Should_produce_with_the_plain_sink_and_read_back_with_the_plain_source()
    {
        var topic = Kafka.CreateTopic("plain", 3);
        await Within(Source.From(Enumerable.Range(0, 1_000))
            .Select(i => new ProducerRecord<string, string>(topic, $"k{i % 10}", $"{i}"))
            .RunWith(KafkaProducer.PlainSink(ProducerSettings.ForStrings(Kafka.BootstrapServers)), Materializer), 20, "producing");

        var (control, records) = KafkaConsumer.PlainSource(StringConsumer(KafkaFixture.Unique("plain")), topic)
            .Take(1_000)
            .ToMaterialized(Sink.Seq<ConsumeResult<string, string>>(), Keep.Both)
            .Run(Materializer);
        var all = await Within(records, 20, "consuming");
        await control.Shutdown();

        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => $"{i}"), all.Select(r => r.Message.Value).OrderBy(int.Parse));
        // Same key, same partition, in production order.
        foreach (var byKey in all.GroupBy(r => r.Message.Key))
        {
            Assert.Single(byKey.Select(r => r.Partition.Value).Distinct());
            var values = byKey.Select(r => int.Parse(r.Message.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(values.Order(), values);
        }
    }

    [Fact]
    public async Task Should_fail_the_stage_when_a_delivery_fails()
    {
        var settings = ProducerSettings.ForStrings(Kafka.BootstrapServers)
            .WithProperty("message.timeout.ms", "1000")
            .WithProperty("message.max.bytes", "1000");
        var task = Source.Single(new ProducerRecord<string, string>(Kafka.CreateTopic("fail", 1), "k", new string('x', 5_000)))
            .RunWith(KafkaProducer.PlainSink(settings), Materializer);
        await Assert.ThrowsAnyAsync<KafkaException>(() => Within(task, 15, "failing"));
    }
}
