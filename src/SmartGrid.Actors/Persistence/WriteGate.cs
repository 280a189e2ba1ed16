using Akka.Actor;
using SmartGrid.Actors.Hosting;

namespace SmartGrid.Actors.Persistence;

/// <summary>
/// Back-pressure for a persistence plugin actor's writes. Akka hands a journal or snapshot store every
/// write the moment an entity asks, and the plugins start them all: Akka.Persistence.Sql's journal
/// fails a write its queue (buffer-size) has no room for, and its snapshot store opens a connection per
/// save, so a fleet snapshotting together drains the pool the journal writes from too. A failed
/// persist stops its meter and restarts the telemetry stream, which asks the same meters again.
/// Here, while <c>limit</c> writes are in the plugin's hands, the next write messages wait in the
/// actor, in arrival order, and go back to it (with their sender, whom the reply is for) as earlier
/// ones end. They wait outside the plugin's circuit breaker, whose call timeout only starts when a
/// write is handed over. The actor passes every message through <see cref="Admit"/> and reports each
/// write the plugin starts with <see cref="Started"/>.
/// </summary>
internal sealed class WriteGate(int limit, string store, Func<object, bool> isWrite)
{
    public enum Admission
    {
        /// <summary>Not for the gate: handle it.</summary>
        Pass,
        /// <summary>A write that waited: handle it now.</summary>
        Released,
        /// <summary>Taken by the gate (a write held back, or the gate's own message): nothing to do.</summary>
        Taken,
    }

    private readonly Queue<(object Write, IActorRef Sender)> _held = new();
    private readonly KeyValuePair<string, object?> _storeTag = new("store", store);
    /// <summary>Writes handed to the plugin and not ended; released writes on their way back to the actor.</summary>
    private int _inFlight, _releasing;

    public int Limit => limit;

    /// <param name="message">In: the message received; out: the one to handle (a released write comes wrapped).</param>
    public Admission Admit(ref object message, IActorRef sender, IActorRef self)
    {
        switch (message)
        {
            case ReleasedWrite released:
                _releasing--;
                message = released.Write;
                return Admission.Released;
            case WriteEnded:
                _inFlight--;
                while (_held.Count > 0 && _inFlight + _releasing < limit)
                {
                    var (write, writer) = _held.Dequeue();
                    _releasing++;
                    PipelineMetrics.WritesHeld.Add(-1, _storeTag);
                    self.Tell(new ReleasedWrite(write), writer);
                }
                return Admission.Taken;
            case var write when isWrite(write) && (_held.Count > 0 || _inFlight + _releasing >= limit):
                _held.Enqueue((write, sender));
                PipelineMetrics.WritesHeld.Add(1, _storeTag);
                return Admission.Taken;
            default:
                return Admission.Pass;
        }
    }

    /// <summary>A write the plugin started: it holds a place until it ends, either way.</summary>
    public void Started(Task write, IActorRef self)
    {
        _inFlight++;
        write.ContinueWith(_ => self.Tell(WriteEnded.Instance), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The writes still held when the actor stops: nobody will answer them.</summary>
    public IEnumerable<object> Abandon()
    {
        while (_held.TryDequeue(out var held))
        {
            PipelineMetrics.WritesHeld.Add(-1, _storeTag);
            yield return held.Write;
        }
    }

    private sealed record ReleasedWrite(object Write);

    private sealed class WriteEnded
    {
        public static readonly WriteEnded Instance = new();
    }
}
