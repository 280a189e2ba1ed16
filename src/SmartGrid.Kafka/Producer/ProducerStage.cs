using Akka.Streams;
using Akka.Streams.Stage;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Produces the records of each <see cref="ProducerMessage{TKey,TValue,TPassThrough}"/> without waiting
/// (delivery reports arrive asynchronously on librdkafka's thread), keeps at most
/// <see cref="ProducerSettings{TKey,TValue}.MaxInFlight"/> messages awaiting reports, and emits the results
/// in input order. The first failed delivery fails the stage.
/// </summary>
internal sealed class ProducerStage<TKey, TValue, TPassThrough>
    : GraphStage<FlowShape<ProducerMessage<TKey, TValue, TPassThrough>, ProducerResult<TKey, TValue, TPassThrough>>>
{
    private readonly ProducerSettings<TKey, TValue> _settings;
    private readonly IProducer<TKey, TValue>? _sharedProducer;

    public ProducerStage(ProducerSettings<TKey, TValue> settings, IProducer<TKey, TValue>? sharedProducer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxInFlight, 1, nameof(settings.MaxInFlight));
        _settings = settings;
        _sharedProducer = sharedProducer;
        Shape = new FlowShape<ProducerMessage<TKey, TValue, TPassThrough>, ProducerResult<TKey, TValue, TPassThrough>>(In, Out);
    }

    public Inlet<ProducerMessage<TKey, TValue, TPassThrough>> In { get; } = new("KafkaProducer.in");
    public Outlet<ProducerResult<TKey, TValue, TPassThrough>> Out { get; } = new("KafkaProducer.out");
    public override FlowShape<ProducerMessage<TKey, TValue, TPassThrough>, ProducerResult<TKey, TValue, TPassThrough>> Shape { get; }
    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("KafkaProducer");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    /// <summary>One message awaiting its delivery reports; completed from librdkafka's thread.</summary>
    private sealed class InFlight(ProducerMessage<TKey, TValue, TPassThrough> message, int records)
    {
        public readonly ProducerMessage<TKey, TValue, TPassThrough> Message = message;
        public readonly DeliveryResult<TKey, TValue>[] Results = new DeliveryResult<TKey, TValue>[records];
        public int Remaining = records;
        public volatile bool Done = records == 0;
    }

    private sealed class Logic : InAndOutGraphStageLogic
    {
        private readonly ProducerStage<TKey, TValue, TPassThrough> _stage;
        private readonly Queue<InFlight> _inFlight = new();
        private IProducer<TKey, TValue>? _producer;
        private Action? _reportsArrived;
        private int _drainScheduled;
        private volatile Exception? _failure;

        public Logic(ProducerStage<TKey, TValue, TPassThrough> stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        public override void PreStart()
        {
            _reportsArrived = GetAsyncCallback(() =>
            {
                Volatile.Write(ref _drainScheduled, 0);
                EmitCompleted();
            });
            _producer = _stage._sharedProducer ?? _stage._settings.CreateProducer();
            Pull(_stage.In);
        }

        public override void PostStop()
        {
            if (_stage._sharedProducer is null && _producer is not null)
            {
                _producer.Flush(_stage._settings.FlushTimeout);
                _producer.Dispose();
            }
        }

        public override void OnPush()
        {
            var message = Grab(_stage.In);
            switch (message)
            {
                case ProducerMessage<TKey, TValue, TPassThrough>.Single single:
                {
                    var entry = new InFlight(message, 1);
                    _inFlight.Enqueue(entry);
                    Produce(single.Record, entry, 0);
                    break;
                }
                case ProducerMessage<TKey, TValue, TPassThrough>.Multi multi:
                {
                    var entry = new InFlight(message, multi.Records.Count);
                    _inFlight.Enqueue(entry);
                    for (var i = 0; i < multi.Records.Count; i++)
                        Produce(multi.Records[i], entry, i);
                    break;
                }
                default:
                    _inFlight.Enqueue(new InFlight(message, 0));
                    break;
            }
            EmitCompleted();
            if (_inFlight.Count < _stage._settings.MaxInFlight && !HasBeenPulled(_stage.In) && !IsClosed(_stage.In))
                Pull(_stage.In);
        }

        private void Produce(ProducerRecord<TKey, TValue> record, InFlight entry, int index)
        {
            void OnReport(DeliveryReport<TKey, TValue> report)
            {
                if (report.Error.IsError)
                    _failure ??= new ProduceException<TKey, TValue>(report.Error, report);
                entry.Results[index] = report;
                if (Interlocked.Decrement(ref entry.Remaining) == 0)
                    entry.Done = true;
                if (Interlocked.Exchange(ref _drainScheduled, 1) == 0)
                    _reportsArrived!();
            }

            if (record.Partition is { } partition)
                _producer!.Produce(new TopicPartition(record.Topic, partition), record.Message, OnReport);
            else
                _producer!.Produce(record.Topic, record.Message, OnReport);
        }

        public override void OnUpstreamFinish() => EmitCompleted();

        public override void OnPull() => EmitCompleted();

        private void EmitCompleted()
        {
            if (_failure is { } failure)
            {
                FailStage(failure);
                return;
            }
            if (IsAvailable(_stage.Out) && _inFlight.TryPeek(out var head) && head.Done)
            {
                _inFlight.Dequeue();
                Push(_stage.Out, ToResult(head));
                if (!HasBeenPulled(_stage.In) && !IsClosed(_stage.In))
                    Pull(_stage.In);
            }
            if (IsClosed(_stage.In) && _inFlight.Count == 0)
                CompleteStage();
        }

        private static ProducerResult<TKey, TValue, TPassThrough> ToResult(InFlight entry) => entry.Message switch
        {
            ProducerMessage<TKey, TValue, TPassThrough>.Single s =>
                new ProducerResult<TKey, TValue, TPassThrough>.Single(entry.Results[0], s.PassThrough),
            ProducerMessage<TKey, TValue, TPassThrough>.Multi m =>
                new ProducerResult<TKey, TValue, TPassThrough>.Multi(entry.Results, m.PassThrough),
            _ => new ProducerResult<TKey, TValue, TPassThrough>.PassThroughOnly(entry.Message.PassThrough),
        };
    }
}
