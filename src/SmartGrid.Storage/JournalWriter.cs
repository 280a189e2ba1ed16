using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// Writes persistent entities' events into Akka.Persistence.Sql's <c>journal</c> table (migration 0040's layout, tags
/// in the row), many callers' rows in one binary COPY. The plugin's own write path (a stream queue batching with
/// immutable lists, linq2db's mapping, an async state machine or two per write) allocated half of a busy node's bytes;
/// here a write is its rows and one pending entry. Writes that arrive while <c>parallelism</c> COPYs run wait and go
/// together in the next, so batches grow with the load and a lone write goes at once: no timer holds anything back.
/// <para>
/// A COPY is all or nothing: one write the database refuses (a second writer's duplicate sequence number, on
/// <c>journal_uq</c>) would fail every caller in its batch. A batch the database refused is therefore written again
/// write by write, so only the refused write fails, as it would have alone (<see cref="RefusedRow"/>). A batch that
/// failed for any other reason (no connection, a timeout) fails every write in it, as the plugin's did.
/// </para>
/// </summary>
public sealed class JournalWriter(NpgsqlDataSource dataSource, int maxRows, int parallelism, Action<int>? onBatch = null)
{
    private const string CopySql =
        "COPY journal (created, deleted, persistence_id, sequence_number, message, tags, manifest, identifier, writer_uuid) FROM STDIN (FORMAT BINARY)";

    private readonly Lock _lock = new();
    private readonly Queue<Pending> _pending = new();
    private int _running;

    /// <summary>
    /// Writes one caller's rows, all or none (one COPY never splits them), and completes with <paramref name="answer"/>
    /// once they are committed.
    /// </summary>
    public Task<TAnswer> WriteAsync<TAnswer>(IReadOnlyList<JournalRowToWrite> rows, TAnswer answer)
    {
        var pending = new Pending<TAnswer>(rows, answer);
        bool start;
        lock (_lock)
        {
            _pending.Enqueue(pending);
            start = _running < parallelism;
            if (start) _running++;
        }
        // Off the caller's thread: the writes the caller (a journal actor) has next in its mailbox join this batch.
        if (start) _ = Task.Run(DrainAsync);
        return pending.Done.Task;
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            var batch = new List<Pending>();
            lock (_lock)
            {
                var rows = 0;
                // At least one write, however many rows it has; then as many whole writes as fit.
                while (_pending.TryPeek(out var next) && (batch.Count == 0 || rows + next.Rows.Count <= maxRows))
                {
                    batch.Add(_pending.Dequeue());
                    rows += next.Rows.Count;
                }
                if (batch.Count == 0)
                {
                    _running--;
                    return;
                }
            }
            await WriteBatchAsync(batch);
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        onBatch?.Invoke(batch.Count);
        try
        {
            await CopyAsync(batch);
        }
        catch (PostgresException refused) when (batch.Count > 1 && RefusedRow(refused))
        {
            foreach (var write in batch)
            {
                try
                {
                    await CopyAsync([write]);
                }
                catch (Exception e)
                {
                    write.Failed(e);
                    continue;
                }
                write.Written();
            }
            return;
        }
        catch (Exception e)
        {
            foreach (var write in batch) write.Failed(e);
            return;
        }
        foreach (var write in batch) write.Written();
    }

    /// <summary>
    /// The database refused a row (an integrity constraint, data it cannot take), so one write in the batch is to blame:
    /// any other failure (the server going away, a timeout) would only be repeated write by write.
    /// </summary>
    private static bool RefusedRow(PostgresException e) => e.SqlState.StartsWith("23", StringComparison.Ordinal) || e.SqlState.StartsWith("22", StringComparison.Ordinal);

    private async Task CopyAsync(List<Pending> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var copy = await connection.BeginBinaryImportAsync(CopySql);
        foreach (var write in batch)
            foreach (var row in write.Rows)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(row.Created, NpgsqlDbType.Bigint);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                await copy.WriteAsync(row.PersistenceId, NpgsqlDbType.Text);
                await copy.WriteAsync(row.SequenceNr, NpgsqlDbType.Bigint);
                await copy.WriteAsync(row.Message, NpgsqlDbType.Bytea);
                await copy.WriteAsync(row.Tags, NpgsqlDbType.Text);
                await copy.WriteAsync(row.Manifest, NpgsqlDbType.Text);
                await copy.WriteAsync(row.SerializerId, NpgsqlDbType.Integer);
                await copy.WriteAsync(row.WriterUuid, NpgsqlDbType.Text);
            }
        await copy.CompleteAsync();
    }

    private abstract class Pending(IReadOnlyList<JournalRowToWrite> rows)
    {
        public IReadOnlyList<JournalRowToWrite> Rows { get; } = rows;
        public abstract void Written();
        public abstract void Failed(Exception cause);
    }

    private sealed class Pending<TAnswer>(IReadOnlyList<JournalRowToWrite> rows, TAnswer answer) : Pending(rows)
    {
        // Continuations run on the thread pool, not inside the COPY loop: they are the callers' (persist replies, the next writes).
        public TaskCompletionSource<TAnswer> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override void Written() => Done.TrySetResult(answer);
        public override void Failed(Exception cause) => Done.TrySetException(cause);
    }
}

/// <summary>
/// One event as Akka.Persistence.Sql stores it: <paramref name="Created"/> in UTC ticks, <paramref name="Tags"/> in the
/// plugin's CSV form (<c>;a;b;</c>, empty without tags), the payload, manifest and id of the serializer that wrote it.
/// </summary>
public readonly record struct JournalRowToWrite(
    string PersistenceId, long SequenceNr, long Created, byte[] Message, string Tags, string Manifest, int SerializerId, string WriterUuid);
