using System.Collections.Immutable;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Immutable consumer settings for <see cref="KafkaConsumer"/>. librdkafka defaults that matter here:
/// <c>enable.auto.commit=false</c> (offsets are committed by <see cref="Committer"/>) and
/// <c>auto.offset.reset=earliest</c>, and <c>fetch.wait.max.ms=100</c> (librdkafka keeps one fetch in flight per
/// broker; a partition resumed after a pause waits for it, up to 500 ms with the default), and
/// <c>fetch.queue.backoff.ms=10</c>: once librdkafka's local queue holds <c>queued.min.messages</c> (100,000, counted
/// over all partitions of the consumer) it stops fetching for this long, 1 s by default. A consumer that drains
/// those 100,000 in about 100 ms then sat idle for the rest of the second: the "stuck near 230K msg/s" rounds of
/// <c>./build.sh bench kafka</c>, for the raw Confluent loop too.
/// For failover: <c>session.timeout.ms=6000</c> (a killed member's partitions move after 6 s, the lowest a stock
/// broker accepts, not after librdkafka's 45 s) and <c>heartbeat.interval.ms=1000</c>. The assignment stays
/// librdkafka's eager <c>range</c>; <c>partition.assignment.strategy=cooperative-sticky</c> is supported (a rebalance
/// revokes only the partitions that move, RebalanceSpecs), but every member of a group must use the same protocol.
/// Anything in <see cref="Properties"/> overrides them.
/// </summary>
public sealed record ConsumerSettings<TKey, TValue>
{
    public ConsumerSettings(string bootstrapServers, string groupId,
        IDeserializer<TKey> keyDeserializer, IDeserializer<TValue> valueDeserializer)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        BootstrapServers = bootstrapServers;
        GroupId = groupId;
        KeyDeserializer = keyDeserializer ?? throw new ArgumentNullException(nameof(keyDeserializer));
        ValueDeserializer = valueDeserializer ?? throw new ArgumentNullException(nameof(valueDeserializer));
        KafkaNative.EnsureLoaded();
    }

    public string BootstrapServers { get; init; }
    public string GroupId { get; init; }
    public IDeserializer<TKey> KeyDeserializer { get; init; }
    public IDeserializer<TValue> ValueDeserializer { get; init; }

    /// <summary>
    /// Fetched-but-not-emitted messages held per partition. A partition is paused only when its buffer
    /// reaches this size and resumed when it has drained to half (pausing makes librdkafka drop what it
    /// prefetched for it, so a pause must be the exception, not the rule).
    /// </summary>
    public int MaxBufferPerPartition { get; init; } = 10_000;

    /// <summary>Messages taken from librdkafka per poll round before they are handed to the partition buffers.</summary>
    public int PollBatchSize { get; init; } = 1_000;

    /// <summary>How long one poll waits for the first message of a batch.</summary>
    public TimeSpan PollTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// When the stream stops on its own (cancelled or failed), how long the consumer stays in the group
    /// so that commits of messages already emitted can still go through.
    /// <see cref="IControl.Shutdown"/> and <see cref="IControl.DrainAndShutdown{T}"/> do not wait for it.
    /// </summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Topic that receives records whose key or value cannot be deserialized: raw key and value, the
    /// original headers plus <c>reason</c>, <c>source-topic</c>, <c>source-partition</c>, <c>source-offset</c>.
    /// The offset of such a record is committed once the dead letter is acknowledged.
    /// Without a dead-letter topic such records are logged and skipped.
    /// </summary>
    public string? DeadLetterTopic { get; init; }

    /// <summary>Extra librdkafka properties for the dead-letter producer (acks=all and idempotence are preset).</summary>
    public ImmutableDictionary<string, string> DeadLetterProducerProperties { get; init; } =
        ImmutableDictionary<string, string>.Empty;

    /// <summary>Extra librdkafka consumer properties; they win over every preset of this type.</summary>
    public ImmutableDictionary<string, string> Properties { get; init; } = ImmutableDictionary<string, string>.Empty;

    public ConsumerSettings<TKey, TValue> WithProperty(string key, string value) =>
        this with { Properties = Properties.SetItem(key, value) };

    public ConsumerSettings<TKey, TValue> WithGroupId(string groupId) => this with { GroupId = groupId };

    public ConsumerSettings<TKey, TValue> WithDeadLetterTopic(string topic) => this with { DeadLetterTopic = topic };

    /// <summary>The librdkafka configuration this consumer runs with (also handy for a raw Confluent consumer).</summary>
    public ConsumerConfig ToConsumerConfig()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 100,
            FetchQueueBackoffMs = 10,
            SessionTimeoutMs = 6_000,
            HeartbeatIntervalMs = 1_000,
            // Eager range, librdkafka's default: under cooperative-sticky the three-node ClusterCommandSpecs still
            // found two partitions consumed by no member of either pipeline group, after the pause fix (issue 15).
            // Cooperative-sticky is supported (RebalanceSpecs) for anyone who sets it.
        };
        foreach (var (key, value) in Properties)
            config.Set(key, value);
        return config;
    }

    internal ProducerConfig ToDeadLetterProducerConfig()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            CompressionType = CompressionType.Zstd,
        };
        foreach (var (key, value) in DeadLetterProducerProperties)
            config.Set(key, value);
        return config;
    }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferPerPartition, 1, nameof(MaxBufferPerPartition));
        ArgumentOutOfRangeException.ThrowIfLessThan(PollBatchSize, 1, nameof(PollBatchSize));
        if (DeadLetterTopic is not null)
            ArgumentException.ThrowIfNullOrWhiteSpace(DeadLetterTopic, nameof(DeadLetterTopic));
    }
}

/// <summary>Shortcuts for the common key/value types.</summary>
public static class ConsumerSettings
{
    public static ConsumerSettings<TKey, TValue> Create<TKey, TValue>(string bootstrapServers, string groupId,
        IDeserializer<TKey> keyDeserializer, IDeserializer<TValue> valueDeserializer) =>
        new(bootstrapServers, groupId, keyDeserializer, valueDeserializer);

    public static ConsumerSettings<string, string> ForStrings(string bootstrapServers, string groupId) =>
        new(bootstrapServers, groupId, Deserializers.Utf8, Deserializers.Utf8);
}
