using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>One record to produce: topic (and optionally a fixed partition) plus the Confluent message.</summary>
public sealed record ProducerRecord<TKey, TValue>(string Topic, Message<TKey, TValue> Message, int? Partition = null)
{
    public ProducerRecord(string topic, TKey key, TValue value)
        : this(topic, new Message<TKey, TValue> { Key = key, Value = value })
    {
    }
}

/// <summary>
/// What <see cref="KafkaProducer.Flow{TKey,TValue,TPassThrough}"/> takes: zero, one or several records and a
/// pass-through value (typically a <see cref="CommittableOffset"/>) handed on once all records are acknowledged.
/// </summary>
public abstract record ProducerMessage<TKey, TValue, TPassThrough>(TPassThrough PassThrough)
{
    /// <summary>Exactly one record.</summary>
    public sealed record Single(ProducerRecord<TKey, TValue> Record, TPassThrough PassThrough)
        : ProducerMessage<TKey, TValue, TPassThrough>(PassThrough);

    /// <summary>Any number of records, acknowledged together.</summary>
    public sealed record Multi(IReadOnlyList<ProducerRecord<TKey, TValue>> Records, TPassThrough PassThrough)
        : ProducerMessage<TKey, TValue, TPassThrough>(PassThrough);

    /// <summary>No record: only the pass-through goes on, in order (e.g. to commit a skipped message).</summary>
    public sealed record PassThroughOnly(TPassThrough PassThrough)
        : ProducerMessage<TKey, TValue, TPassThrough>(PassThrough);
}

public static class ProducerMessage
{
    public static ProducerMessage<TKey, TValue, TPassThrough> Single<TKey, TValue, TPassThrough>(
        ProducerRecord<TKey, TValue> record, TPassThrough passThrough) =>
        new ProducerMessage<TKey, TValue, TPassThrough>.Single(record, passThrough);

    public static ProducerMessage<TKey, TValue, TPassThrough> Multi<TKey, TValue, TPassThrough>(
        IReadOnlyList<ProducerRecord<TKey, TValue>> records, TPassThrough passThrough) =>
        new ProducerMessage<TKey, TValue, TPassThrough>.Multi(records, passThrough);

    public static ProducerMessage<TKey, TValue, TPassThrough> PassThrough<TKey, TValue, TPassThrough>(TPassThrough passThrough) =>
        new ProducerMessage<TKey, TValue, TPassThrough>.PassThroughOnly(passThrough);
}

/// <summary>The outcome of one <see cref="ProducerMessage{TKey,TValue,TPassThrough}"/>, emitted in input order.</summary>
public abstract record ProducerResult<TKey, TValue, TPassThrough>(TPassThrough PassThrough)
{
    public sealed record Single(DeliveryResult<TKey, TValue> Result, TPassThrough PassThrough)
        : ProducerResult<TKey, TValue, TPassThrough>(PassThrough);

    public sealed record Multi(IReadOnlyList<DeliveryResult<TKey, TValue>> Results, TPassThrough PassThrough)
        : ProducerResult<TKey, TValue, TPassThrough>(PassThrough);

    public sealed record PassThroughOnly(TPassThrough PassThrough)
        : ProducerResult<TKey, TValue, TPassThrough>(PassThrough);
}
