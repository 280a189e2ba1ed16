using Akka;
using Akka.Streams.Dsl;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>Kafka producer flows and sinks (see <see cref="ProducerSettings{TKey,TValue}"/>).</summary>
public static class KafkaProducer
{
    /// <summary>
    /// Produces every record of each message and emits its result, carrying the pass-through, in input order once
    /// all its records are acknowledged. Creates (and on stop flushes and disposes) its own producer unless
    /// <paramref name="producer"/> is given.
    /// </summary>
    public static Flow<ProducerMessage<TKey, TValue, TPassThrough>, ProducerResult<TKey, TValue, TPassThrough>, NotUsed>
        Flow<TKey, TValue, TPassThrough>(ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? producer = null) =>
        Akka.Streams.Dsl.Flow.FromGraph(new ProducerStage<TKey, TValue, TPassThrough>(settings, producer));

    /// <summary>The same as <see cref="Flow{TKey,TValue,TPassThrough}"/> with the pass-through as the stream's context.</summary>
    public static FlowWithContext<ProducerMessage<TKey, TValue, NotUsed>, TContext, ProducerResult<TKey, TValue, NotUsed>, TContext, NotUsed>
        FlowWithContext<TKey, TValue, TContext>(ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? producer = null) =>
        Akka.Streams.Dsl.FlowWithContext.From(
            Akka.Streams.Dsl.Flow.Create<(ProducerMessage<TKey, TValue, NotUsed>, TContext)>()
                .Select(pair => WithPassThrough(pair.Item1, pair.Item2))
                .Via(Flow<TKey, TValue, TContext>(settings, producer))
                .Select(result => (WithoutPassThrough(result), result.PassThrough)));

    /// <summary>Produces records and completes when all of them are acknowledged.</summary>
    public static Sink<ProducerRecord<TKey, TValue>, Task<Done>> PlainSink<TKey, TValue>(
        ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? producer = null) =>
        Akka.Streams.Dsl.Flow.Create<ProducerRecord<TKey, TValue>>()
            .Select(record => ProducerMessage.Single(record, NotUsed.Instance))
            .Via(Flow<TKey, TValue, NotUsed>(settings, producer))
            .ToMaterialized(Sink.Ignore<ProducerResult<TKey, TValue, NotUsed>>(), Keep.Right);

    private static ProducerMessage<TKey, TValue, TContext> WithPassThrough<TKey, TValue, TContext>(
        ProducerMessage<TKey, TValue, NotUsed> message, TContext context) => message switch
    {
        ProducerMessage<TKey, TValue, NotUsed>.Single s => ProducerMessage.Single(s.Record, context),
        ProducerMessage<TKey, TValue, NotUsed>.Multi m => ProducerMessage.Multi(m.Records, context),
        _ => ProducerMessage.PassThrough<TKey, TValue, TContext>(context),
    };

    private static ProducerResult<TKey, TValue, NotUsed> WithoutPassThrough<TKey, TValue, TContext>(
        ProducerResult<TKey, TValue, TContext> result) => result switch
    {
        ProducerResult<TKey, TValue, TContext>.Single s => new ProducerResult<TKey, TValue, NotUsed>.Single(s.Result, NotUsed.Instance),
        ProducerResult<TKey, TValue, TContext>.Multi m => new ProducerResult<TKey, TValue, NotUsed>.Multi(m.Results, NotUsed.Instance),
        _ => new ProducerResult<TKey, TValue, NotUsed>.PassThroughOnly(NotUsed.Instance),
    };
}
