using System.Collections.Concurrent;
using Confluent.Kafka;

namespace SmartGrid.Kafka.Tests;

/// <summary>One embedded broker for the whole test run; every test makes its own topics and groups.</summary>
public sealed class KafkaFixture : IDisposable
{
    private static int _sequence;

    public KafkaFixture()
    {
        Broker = EmbeddedKafkaBroker.Start([]);
        Producer = ProducerSettings.ForStrings(Broker.BootstrapServers).CreateProducer();
    }

    public EmbeddedKafkaBroker Broker { get; }
    public string BootstrapServers => Broker.BootstrapServers;
    public IProducer<string, string> Producer { get; }

    public static string Unique(string prefix) => $"{prefix}-{Interlocked.Increment(ref _sequence)}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 14, 60)];

    public string CreateTopic(string prefix, int partitions)
    {
        var name = Unique(prefix);
        Broker.CreateTopic(name, partitions);
        return name;
    }

    /// <summary>Produces synchronously (flushes) to the given partition, or by key hash when null.</summary>
    public void Produce(string topic, IEnumerable<(string Key, string Value, int? Partition)> records)
    {
        var errors = new ConcurrentQueue<Error>();
        foreach (var (key, value, partition) in records)
        {
            var message = new Message<string, string> { Key = key, Value = value };
            Action<DeliveryReport<string, string>> onReport = r => { if (r.Error.IsError) errors.Enqueue(r.Error); };
            if (partition is { } p)
                Producer.Produce(new TopicPartition(topic, p), message, onReport);
            else
                Producer.Produce(topic, message, onReport);
        }
        Producer.Flush(TimeSpan.FromSeconds(20));
        Assert.Empty(errors);
    }

    /// <summary>Produces <paramref name="perPartition"/> records to every partition, values prefixed with <paramref name="round"/>.</summary>
    public void ProduceRound(string topic, int partitions, int perPartition, string round) =>
        Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"{round}{i}", (int?)p))));

    /// <summary>The group's committed offset per partition (-1001 = none).</summary>
    public Dictionary<int, long> Committed(string groupId, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
        }).Build();
        var committed = consumer.Committed(
            Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10));
        return committed.ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }

    public Dictionary<int, long> EndOffsets(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = Unique("watermarks"),
        }).Build();
        return Enumerable.Range(0, partitions).ToDictionary(p => p,
            p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    public void Dispose()
    {
        Producer.Dispose();
        Broker.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KafkaCollection : ICollectionFixture<KafkaFixture>
{
    public const string Name = "Embedded Kafka";
}
