using System.Collections.Immutable;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Immutable producer settings for <see cref="KafkaProducer"/>: zstd compression, a short linger,
/// acks=all and the idempotent producer by default; <see cref="Properties"/> override any of them.
/// </summary>
public sealed record ProducerSettings<TKey, TValue>
{
    public ProducerSettings(string bootstrapServers, ISerializer<TKey> keySerializer, ISerializer<TValue> valueSerializer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        BootstrapServers = bootstrapServers;
        KeySerializer = keySerializer ?? throw new ArgumentNullException(nameof(keySerializer));
        ValueSerializer = valueSerializer ?? throw new ArgumentNullException(nameof(valueSerializer));
        KafkaNative.EnsureLoaded();
    }

    public string BootstrapServers { get; init; }
    public ISerializer<TKey> KeySerializer { get; init; }
    public ISerializer<TValue> ValueSerializer { get; init; }
    public CompressionType Compression { get; init; } = CompressionType.Zstd;
    public double LingerMs { get; init; } = 5;
    public Acks Acks { get; init; } = Acks.All;
    public bool EnableIdempotence { get; init; } = true;

    /// <summary>
    /// How a keyed record finds its partition: murmur2, the Java client's default, so every producer of a topic (ours,
    /// a head-end's Java client) puts a key in the same partition, the one <see cref="MeterPartition.Of"/> computes. The
    /// meters' shards are placed by it (README "Failover" 6). librdkafka's own default (consistent_random, CRC32) would
    /// scatter a meter's readings' partition away from its shard's node.
    /// </summary>
    public Partitioner Partitioner { get; init; } = Partitioner.Murmur2Random;

    /// <summary>Producer messages (each with zero or more records) awaiting their delivery reports.</summary>
    public int MaxInFlight { get; init; } = 10_000;

    /// <summary>How long a stage that owns its producer waits for outstanding deliveries when it stops.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public ImmutableDictionary<string, string> Properties { get; init; } = ImmutableDictionary<string, string>.Empty;

    public ProducerSettings<TKey, TValue> WithProperty(string key, string value) =>
        this with { Properties = Properties.SetItem(key, value) };

    public ProducerConfig ToProducerConfig()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            CompressionType = Compression,
            LingerMs = LingerMs,
            Acks = Acks,
            EnableIdempotence = EnableIdempotence,
            Partitioner = Partitioner,
        };
        foreach (var (key, value) in Properties)
            config.Set(key, value);
        return config;
    }

    /// <summary>A Confluent producer with these settings; the caller owns (and disposes) it.</summary>
    public IProducer<TKey, TValue> CreateProducer()
    {
        KafkaNative.EnsureLoaded();
        return new ProducerBuilder<TKey, TValue>(ToProducerConfig())
            .SetKeySerializer(KeySerializer)
            .SetValueSerializer(ValueSerializer)
            .Build();
    }
}

public static class ProducerSettings
{
    public static ProducerSettings<TKey, TValue> Create<TKey, TValue>(string bootstrapServers,
        ISerializer<TKey> keySerializer, ISerializer<TValue> valueSerializer) =>
        new(bootstrapServers, keySerializer, valueSerializer);

    public static ProducerSettings<string, string> ForStrings(string bootstrapServers) =>
        new(bootstrapServers, Serializers.Utf8, Serializers.Utf8);
}
