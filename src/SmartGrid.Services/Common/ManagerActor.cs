using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using SmartGrid.Contracts;
using SmartGrid.Kafka;

namespace SmartGrid.Services.Common;

/// <summary>
/// What the manager singletons share: their Kafka consumer stream (started with the actor,
/// restarted after a back-off when it fails, stopped with the actor so a handover resumes from the
/// committed offsets), serial asynchronous handling of records, and periodic maintenance.
/// State lives in PostgreSQL, written in the same transaction as each effect, so the actor itself
/// holds nothing a handover could lose.
/// </summary>
public abstract class ManagerActor : ReceiveActor, IWithTimers
{
    private const string MaintenanceTimer = "maintenance";
    private readonly ConsumerOptions _consumer;
    private readonly TimeSpan _maintenanceInterval;
    private readonly Dictionary<string, Func<string, object>> _readers;
    private IControl? _control;
    private int _generation;

    /// <param name="readers">How each topic's records are read (<see cref="TopicReader.Of{T}"/>); a record of any other topic stays
    /// its JSON text, which <see cref="HandleRecordAsync"/> ignores.</param>
    protected ManagerActor(ConsumerOptions consumer, TimeSpan maintenanceInterval, params IEnumerable<TopicReader> readers)
    {
        _consumer = consumer;
        _maintenanceInterval = maintenanceInterval;
        _readers = readers.ToDictionary(r => r.Topic, r => r.Read, StringComparer.Ordinal);
        Receive<StartConsumer>(_ => StartStream());
        Receive<ConsumerStopped>(OnStreamStopped);
        ReceiveAsync<ConsumedRecord>(async record =>
        {
            var sender = Sender;
            object message;
            try
            {
                message = record.Message ?? Parse(record.Topic, record.Value);
            }
            catch (Exception e) when (e is JsonException or MalformedRecordException)
            {
                // Only records sent directly get here: the consumer dead-letters them before.
                Log.Error("{0}: malformed record on {1} with key {2} skipped: {3}", Self.Path.Name, record.Topic, record.Key ?? "<null>", e.Message);
                sender.Tell(RecordHandled.Malformed);
                return;
            }

            try
            {
                sender.Tell(await HandleRecordAsync(record, message));
            }
            catch (Exception e)
            {
                Log.Warning(e, "{0}: record of {1} not applied, it will be redelivered", Self.Path.Name, record.Topic);
                sender.Tell(new Status.Failure(e));
            }
        });
        ReceiveAsync<RunMaintenance>(async _ =>
        {
            var sender = Sender;
            try
            {
                await MaintainAsync();
                if (!sender.IsNobody() && !sender.Equals(Self)) sender.Tell(MaintenanceDone.Instance);
            }
            catch (Exception e)
            {
                Log.Warning(e, "{0}: maintenance failed, retried at the next interval", Self.Path.Name);
                if (!sender.IsNobody() && !sender.Equals(Self)) sender.Tell(new Status.Failure(e));
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected ILoggingAdapter Log { get; } = Context.GetLogger();

    /// <summary>
    /// Reads and validates a record of one of the manager's topics; throws <see cref="JsonException"/> or
    /// <see cref="MalformedRecordException"/> for one that can never be applied. Runs on the Kafka
    /// consumer's thread: reads only the readers fixed at construction.
    /// </summary>
    private object Parse(string topic, string json) => _readers.TryGetValue(topic, out var read) ? read(json) : json;

    /// <summary>Applies one record (<paramref name="message"/> is what <see cref="Parse"/> read) durably; throw to have it redelivered.</summary>
    protected abstract Task<RecordHandled> HandleRecordAsync(ConsumedRecord record, object message);

    /// <summary>Periodic work, also run once at start (e.g. publishing what a previous owner left unpublished).</summary>
    protected abstract Task MaintainAsync();

    protected override void PreStart()
    {
        Self.Tell(RunMaintenance.Instance);
        Timers.StartPeriodicTimer(MaintenanceTimer, RunMaintenance.Instance, _maintenanceInterval);
        if (_consumer.BootstrapServers is not null) Self.Tell(StartConsumer.Instance);
    }

    protected override void PostStop()
    {
        _generation++;
        _control?.Shutdown();
        _control = null;
    }

    private void StartStream()
    {
        var generation = ++_generation;
        var (control, completion) = ManagerConsumer.Run(_consumer, Parse, Self, Context.Materializer());
        _control = control;
        completion.PipeTo(Self, success: _ => new ConsumerStopped(generation, null), failure: e => new ConsumerStopped(generation, e));
    }

    private void OnStreamStopped(ConsumerStopped stopped)
    {
        if (stopped.Generation != _generation) return;
        Log.Warning(stopped.Cause, "{0}: Kafka consumer stopped; restarting in {1}", Self.Path.Name, _consumer.RestartBackoff);
        _control = null;
        Timers.StartSingleTimer("restart-consumer", StartConsumer.Instance, _consumer.RestartBackoff);
    }

    /// <summary>How a manager reads one of its topics: the wire JSON of <c>T</c>, validated.</summary>
    protected sealed record TopicReader(string Topic, Func<string, object> Read)
    {
        public static TopicReader Of<T>(string topic, Func<T, T> validated) => new(topic, json => validated(WireJson.Deserialize<T>(json))!);
    }

    private sealed class StartConsumer : IDeadLetterSuppression
    {
        public static readonly StartConsumer Instance = new();
    }

    private sealed record ConsumerStopped(int Generation, Exception? Cause) : IDeadLetterSuppression;
}
