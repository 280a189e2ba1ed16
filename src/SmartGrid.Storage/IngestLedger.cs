using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// The <c>ingest_ledger</c> table: one row per acknowledged ingestion batch, kept until the
/// processor has consumed every record of it from Kafka. Appends commit synchronously (the
/// acknowledgement promises the row survives a crash of this machine's processes).
/// </summary>
public sealed class IngestLedger(NpgsqlDataSource dataSource)
{
    /// <summary>Stores one batch and returns its id once the row is committed.</summary>
    public async Task<long> AppendAsync(string owner, int readingCount, ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(readingCount);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // One round trip, one implicit transaction: the setting applies to this insert only.
        // synchronous_commit is on by default; a server or role set to off (a common tuning for bulk
        // loads) would make the acknowledgement a promise the WAL has not kept yet.
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                Db.Statement("SELECT set_config('synchronous_commit', 'on', true)"),
                Db.Statement("INSERT INTO ingest_ledger (owner, reading_count, payload) VALUES ($1, $2, $3) RETURNING id",
                    owner, Db.Value(readingCount), Db.Value(payload, NpgsqlDbType.Bytea)),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetInt64(0);
    }

    /// <summary>Every row of <paramref name="owner"/> (id and reading count), oldest first: what a restarted ingest node still owes Kafka.</summary>
    public async Task<List<(long Id, int Readings)>> PendingAsync(string owner, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(dataSource, "SELECT id, reading_count FROM ingest_ledger WHERE owner = $1 ORDER BY id", owner);
        var rows = new List<(long, int)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            rows.Add((reader.GetInt64(0), reader.GetInt32(1)));
        return rows;
    }

    /// <summary>The payloads of <paramref name="ids"/> that still exist.</summary>
    public async Task<Dictionary<long, byte[]>> PayloadsAsync(long[] ids, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(dataSource, "SELECT id, payload FROM ingest_ledger WHERE id = ANY($1)", Db.Array(ids, NpgsqlDbType.Bigint));
        var payloads = new Dictionary<long, byte[]>(ids.Length);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            payloads[reader.GetInt64(0)] = reader.GetFieldValue<byte[]>(1);
        return payloads;
    }

    /// <summary>Deletes rows the processor has consumed; returns how many were still there.</summary>
    public async Task<int> DeleteAsync(long[] ids, CancellationToken ct = default)
    {
        if (ids.Length == 0) return 0;
        await using var cmd = Db.Command(dataSource, "DELETE FROM ingest_ledger WHERE id = ANY($1)", Db.Array(ids, NpgsqlDbType.Bigint));
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}
