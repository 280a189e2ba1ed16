using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using SmartGrid.Actors.Hosting;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Persistence;

/// <summary>
/// Akka.Persistence.Sql's journal, with the two reads of a recovery batched across entities: the
/// highest sequence number and the replay of the events after the snapshot. Thousands of meters
/// starting at once (a restart, a fleet of passivated or new meters) each asked the plugin for
/// both on a connection of their own, and the journal's recovery rate (a few hundred meters a
/// second) set the pace of the whole stream. Here the requests that arrive while earlier ones are
/// answered go as one statement (<see cref="JournalRecoveryReader"/>), and a batch of hundreds costs
/// about what one request did. Writes, deletes and queries are the plugin's, unchanged; a replay
/// longer than <see cref="MaxBatchedReplay"/> events (a region's, a sharding coordinator's) is the
/// plugin's too, which pages it.
/// <para>
/// Writes wait for room instead of failing. The plugin hands every write to a queue of
/// <c>buffer-size</c> entries and fails it when the queue is full; a failed persist stops the meter
/// and, through <see cref="Metering.JournalFailures"/>, restarts the telemetry stream, which then
/// replays and asks the same meters to persist again: a fleet of fresh meters (50,000 in the first
/// tick of a soak) checkpointing at once turned into a restart loop. Here at most <c>buffer-size</c>
/// writes are in the plugin's hands; the next ones wait in this actor, in arrival order, and go
/// as earlier ones finish. The journal's rate then paces the writers, whoever they are.
/// </para>
/// </summary>
public sealed class BatchedSqlJournal : SqlWriteJournal
{
    /// <summary>Longest replay answered in a batch; a meter snapshots every 100 events, so it replays fewer.</summary>
    public const long MaxBatchedReplay = 1_000;

    private readonly RecoveryBatching.Reads _reads;
    private readonly Akka.Serialization.Serialization _serialization;

    /// <summary>
    /// Each entity's write in flight, or held back: its recovery must not read the highest sequence number before the write ends.
    /// </summary>
    private readonly ConcurrentDictionary<string, Task> _writes = new();

    /// <summary>Writes the plugin's queue holds at most: more than that in its hands, and it fails the next.</summary>
    private readonly int _maxWritesInFlight;
    /// <summary>Writes handed to the plugin and not yet ended. Only this actor touches it (an ended write tells it).</summary>
    private int _writesInFlight;
    /// <summary>Writes that arrived while <see cref="_maxWritesInFlight"/> were in flight, and the task their recoveries wait on.</summary>
    private readonly Queue<(WriteMessages Write, TaskCompletionSource Released)> _held = new();

    public BatchedSqlJournal(Config journalConfig) : base(journalConfig)
    {
        _reads = RecoveryBatching.For(Context.System).ReadsFor(journalConfig);
        _serialization = Context.System.Serialization;
        // The plugin's own default when the key is absent.
        _maxWritesInFlight = journalConfig.GetInt("buffer-size", 5000);
        if (_maxWritesInFlight < 1)
            throw new ConfigurationException($"{nameof(BatchedSqlJournal)}: buffer-size must be at least 1, was {_maxWritesInFlight}");
    }

    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        // A restarted entity may recover while its last write is still on its way (or held back): it would number its next
        // events from an old highest. A held write, once released, is replaced by the plugin's: wait for that one too.
        while (_writes.TryGetValue(persistenceId, out var write))
            await write.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(cancellationToken);
        return await _reads.HighestSequenceNrAsync(persistenceId, fromSequenceNr).WaitAsync(cancellationToken);
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        switch (message)
        {
            // Behind writes already held, a new one waits too: writes go in the order they came.
            case WriteMessages write when _writesInFlight >= _maxWritesInFlight || _held.Count > 0:
                var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (PersistenceIdOf(write) is { } heldId) _writes[heldId] = released.Task;
                _held.Enqueue((write, released));
                PipelineMetrics.JournalWritesHeld.Add(1);
                return true;
            case WriteEnded:
                _writesInFlight--;
                while (_held.Count > 0 && _writesInFlight < _maxWritesInFlight)
                {
                    var (next, whenReleased) = _held.Dequeue();
                    PipelineMetrics.JournalWritesHeld.Add(-1);
                    // Handing it to the plugin puts its real write in _writes (unless the breaker refused it at once).
                    base.AroundReceive(receive, next);
                    if (PersistenceIdOf(next) is { } releasedId) _writes.TryRemove(KeyValuePair.Create(releasedId, whenReleased.Task));
                    whenReleased.TrySetResult();
                }
                return true;
            default:
                return base.AroundReceive(receive, message);
        }
    }

    protected override void PostStop()
    {
        // A journal that stops answers nobody: the held writes' recoveries must not wait for them.
        while (_held.TryDequeue(out var held))
        {
            PipelineMetrics.JournalWritesHeld.Add(-1);
            held.Released.TrySetResult();
        }
        base.PostStop();
    }

    private static string? PersistenceIdOf(WriteMessages write) => write.Messages.OfType<AtomicWrite>().FirstOrDefault()?.PersistenceId;

    /// <summary>A write handed to the plugin ended (either way): room for a held one.</summary>
    private sealed class WriteEnded
    {
        public static readonly WriteEnded Instance = new();
    }

    public override async Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        if (toSequenceNr - fromSequenceNr >= MaxBatchedReplay)
        {
            await base.ReplayMessagesAsync(context, persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback);
            return;
        }
        foreach (var row in await _reads.EventsAsync(new EventRange(persistenceId, fromSequenceNr, toSequenceNr, max)))
            recoveryCallback(new Persistent(
                payload: RecoveryBatching.Deserialize(_serialization, row.Payload, row.SerializerId, row.Manifest),
                sequenceNr: row.SequenceNr,
                persistenceId: row.PersistenceId,
                manifest: row.Manifest,
                isDeleted: false,
                sender: ActorRefs.NoSender,
                writerGuid: row.WriterUuid,
                timestamp: row.Created));
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages as IReadOnlyList<AtomicWrite> ?? messages.ToList();
        var write = base.WriteMessagesAsync(writes, cancellationToken);
        _writesInFlight++;
        // One entity's writes come one after the other (an entity waits for its write to end), so the newest is the one to wait for.
        var persistenceId = writes[0].PersistenceId;
        _writes[persistenceId] = write;
        var self = Self;
        write.ContinueWith(done =>
        {
            _writes.TryRemove(KeyValuePair.Create(persistenceId, (Task)done));
            self.Tell(WriteEnded.Instance);
        }, TaskScheduler.Default);
        return write;
    }
}
