using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Akka.Persistence.Sql.Journal;
using Akka.Serialization;
using Akka.Util;
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
/// Writes are ours too (<see cref="JournalWriter"/>): the events of the calls that arrive while earlier COPYs run go
/// into the plugin's table, in the plugin's row format, with one binary COPY. The plugin's write path (its stream
/// queue, linq2db's mapping, per-write tasks and lists) was half of the bytes a busy node allocated. Deletes and
/// queries stay the plugin's; they read our rows as their own.
/// </para>
/// <para>
/// Writes wait for room instead of failing (<see cref="WriteGate"/>): at most <c>buffer-size</c> are in the
/// plugin's hands, the size of the queue it would otherwise refuse the next one from.
/// </para>
/// </summary>
public sealed class BatchedSqlJournal : SqlWriteJournal
{
    /// <summary>Longest replay answered in a batch; a meter snapshots every 100 events, so it replays fewer.</summary>
    public const long MaxBatchedReplay = 1_000;

    private readonly RecoveryBatching.Reads _reads;
    private readonly Akka.Serialization.Serialization _serialization;
    private readonly JournalWriter _rows;
    private readonly string? _defaultSerializer;
    private readonly string _tagSeparator;
    /// <summary>This journal's writer id, as the plugin gives each of its instances one (the replay filter tells writers apart by it).</summary>
    private readonly string _writerUuid = Guid.NewGuid().ToString("N");
    /// <summary>A meter's events carry one tag or none: each tag's CSV column once, not a string per event.</summary>
    private readonly Dictionary<string, string> _tagColumns = new();

    /// <summary>
    /// Each entity's write in flight, or held back: its recovery must not read the highest sequence number before the write ends.
    /// </summary>
    private readonly ConcurrentDictionary<string, Task> _writes = new();

    private readonly WriteGate _gate;
    /// <summary>What the recoveries of held writes' entities wait on, until the write is handed to the plugin.</summary>
    private readonly Dictionary<object, (string PersistenceId, TaskCompletionSource Handed)> _held = new(ReferenceEqualityComparer.Instance);

    public BatchedSqlJournal(Config journalConfig) : base(journalConfig)
    {
        _reads = RecoveryBatching.For(Context.System).ReadsFor(journalConfig);
        _serialization = Context.System.Serialization;
        // The plugin's own default when the key is absent.
        var bufferSize = journalConfig.GetInt("buffer-size", 5000);
        if (bufferSize < 1)
            throw new ConfigurationException($"{nameof(BatchedSqlJournal)}: buffer-size must be at least 1, was {bufferSize}");
        _gate = new WriteGate(bufferSize, "journal", m => m is WriteMessages);
        // The plugin's batching settings, now ours: rows to a COPY, COPYs at once.
        _rows = new JournalWriter(_reads.DataSource, journalConfig.GetInt("batch-size", 400), journalConfig.GetInt("parallelism", 8),
            writes => PipelineMetrics.JournalWriteBatchSize.Record(writes));
        _defaultSerializer = journalConfig.GetString("serializer", null);
        _tagSeparator = journalConfig.GetString("tag-separator", ";");
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
        var received = message;
        switch (_gate.Admit(ref message, Sender, Self))
        {
            case WriteGate.Admission.Taken:
                if (received is WriteMessages held && PersistenceIdOf(held) is { } heldId)
                {
                    var handed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _writes[heldId] = handed.Task;
                    _held[held] = (heldId, handed);
                }
                return true;
            case WriteGate.Admission.Released:
                // Handing it to the plugin puts its real write in _writes (unless the breaker refused it at once).
                var handled = base.AroundReceive(receive, message);
                if (_held.Remove(message, out var waiting))
                {
                    _writes.TryRemove(KeyValuePair.Create(waiting.PersistenceId, waiting.Handed.Task));
                    waiting.Handed.TrySetResult();
                }
                return handled;
            default:
                return base.AroundReceive(receive, message);
        }
    }

    protected override void PostStop()
    {
        // A journal that stops answers nobody: the held writes' recoveries must not wait for them.
        foreach (var write in _gate.Abandon())
            if (_held.Remove(write, out var waiting)) waiting.Handed.TrySetResult();
        base.PostStop();
    }

    private static string? PersistenceIdOf(WriteMessages write) => write.Messages.OfType<AtomicWrite>().FirstOrDefault()?.PersistenceId;

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
        var write = WriteRowsAsync(writes);
        _gate.Started(write, Self);
        // One entity's writes come one after the other (an entity waits for its write to end), so the newest is the one to wait for.
        var persistenceId = writes[0].PersistenceId;
        _writes[persistenceId] = write;
        write.ContinueWith(done => _writes.TryRemove(KeyValuePair.Create(persistenceId, (Task)done)), TaskScheduler.Default);
        return write;
    }

    /// <summary>
    /// As the plugin writes them: a write whose events cannot be serialized is rejected (its entity is told and goes on),
    /// the others are written together; a failed COPY fails the call (its entities' persists fail). The answer is null
    /// when nothing was rejected, which Akka reads as every write succeeding.
    /// </summary>
    private Task<IImmutableList<Exception>> WriteRowsAsync(IReadOnlyList<AtomicWrite> writes)
    {
        var now = DateTime.UtcNow.Ticks;
        var rows = new List<JournalRowToWrite>(writes.Count);
        // Null where a write was accepted, as Akka reads the answer.
        Exception[]? rejections = null;
        for (var i = 0; i < writes.Count; i++)
        {
            var first = rows.Count;
            try
            {
                AddRows(writes[i], now, rows);
            }
            catch (Exception e)
            {
                rows.RemoveRange(first, rows.Count - first);
                (rejections ??= new Exception[writes.Count])[i] = e;
            }
        }
        IImmutableList<Exception> answer = rejections is null ? null! : ImmutableList.CreateRange(rejections);
        return rows.Count == 0 ? Task.FromResult<IImmutableList<Exception>>(answer) : _rows.WriteAsync<IImmutableList<Exception>>(rows, answer);
    }

    private void AddRows(AtomicWrite write, long now, List<JournalRowToWrite> rows)
    {
        if (write.Payload is not IImmutableList<IPersistentRepresentation> events)
            throw new ArgumentException($"{write.PersistenceId}: a write without events ({write.LowestSequenceNr}-{write.HighestSequenceNr})");
        foreach (var persistent in events)
        {
            var (payload, tags) = persistent.Payload is Tagged tagged ? (tagged.Payload, TagColumn(tagged.Tags)) : (persistent.Payload, "");
            var serializer = _serialization.FindSerializerForType(payload.GetType(), _defaultSerializer);
            var manifest = serializer switch
            {
                SerializerWithStringManifest withManifest => withManifest.Manifest(payload),
                { IncludeManifest: true } => payload.GetType().TypeQualifiedName(),
                _ => string.Empty,
            };
            // With the transport information set, as the plugin serializes: a payload holding actor refs writes their full addresses.
            var message = Akka.Serialization.Serialization.WithTransport(_serialization.System, (serializer, payload),
                static state => state.serializer.ToBinary(state.payload));
            rows.Add(new JournalRowToWrite(persistent.PersistenceId, persistent.SequenceNr, persistent.Timestamp == 0 ? now : persistent.Timestamp,
                message, tags, manifest, serializer.Identifier, _writerUuid));
        }
    }

    /// <summary>The plugin's CSV form of a set of tags (<c>;a;b;</c>), in the set's order as the plugin joins it.</summary>
    private string TagColumn(IImmutableSet<string> tags)
    {
        if (tags.Count == 0) return string.Empty;
        if (tags.Count > 1) return _tagSeparator + string.Join(_tagSeparator, tags) + _tagSeparator;
        var tag = tags.First();
        if (!_tagColumns.TryGetValue(tag, out var column))
            _tagColumns[tag] = column = _tagSeparator + tag + _tagSeparator;
        return column;
    }
}
