using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// What a persistent entity reads to recover (its newest snapshot, its highest sequence number,
/// its events after the snapshot), for many entities per statement. The tables are Akka.Persistence.Sql's
/// PostgreSQL layout (journal, snapshot; migrations 0040 and 0068); each statement takes the
/// entities as arrays and looks each one up on the primary or unique index, so a batch of
/// hundreds costs about what one did. Rows come back raw: deserializing them is the journal's job.
/// </summary>
public sealed class JournalRecoveryReader(NpgsqlDataSource dataSource)
{
    private const string LatestSnapshotsSql =
        """
        SELECT r.i, s.sequence_number, s.created, s.snapshot, s.manifest, s.serializer_id
        FROM unnest($1::text[]) WITH ORDINALITY AS r(persistence_id, i)
        CROSS JOIN LATERAL (
            SELECT * FROM snapshot s WHERE s.persistence_id = r.persistence_id ORDER BY s.sequence_number DESC LIMIT 1) s
        """;

    // As the plugin reads it: the highest number above the hint, deleted rows included, 0 when none.
    private const string HighestSequenceNrsSql =
        """
        SELECT r.i, (SELECT max(j.sequence_number) FROM journal j
                     WHERE j.persistence_id = r.persistence_id AND j.sequence_number > r.from_nr)
        FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS r(persistence_id, from_nr, i)
        """;

    private const string EventsSql =
        """
        SELECT r.i, j.sequence_number, j.created, j.message, j.manifest, j.identifier, j.writer_uuid
        FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS r(persistence_id, from_nr, to_nr, max_n, i)
        CROSS JOIN LATERAL (
            SELECT * FROM journal j
            WHERE j.persistence_id = r.persistence_id AND j.sequence_number BETWEEN r.from_nr AND r.to_nr AND NOT j.deleted
            ORDER BY j.sequence_number LIMIT r.max_n) j
        ORDER BY r.i, j.sequence_number
        """;

    /// <summary>The newest snapshot of each entity, null where it has none.</summary>
    public async Task<IReadOnlyList<StoredSnapshot?>> LatestSnapshotsAsync(IReadOnlyList<string> persistenceIds, CancellationToken ct = default)
    {
        var result = new StoredSnapshot?[persistenceIds.Count];
        await using var cmd = Db.Command(dataSource, LatestSnapshotsSql, Db.Array(persistenceIds.ToArray(), NpgsqlDbType.Text));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var i = (int)reader.GetInt64(0) - 1;
            result[i] = new StoredSnapshot(persistenceIds[i], reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<byte[]>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt32(5));
        }
        return result;
    }

    /// <summary>For each (entity, hint): the highest sequence number above the hint, 0 when there is none.</summary>
    public async Task<IReadOnlyList<long>> HighestSequenceNrsAsync(IReadOnlyList<(string PersistenceId, long From)> requests, CancellationToken ct = default)
    {
        var result = new long[requests.Count];
        await using var cmd = Db.Command(dataSource, HighestSequenceNrsSql,
            Db.Array(requests.Select(r => r.PersistenceId).ToArray(), NpgsqlDbType.Text),
            Db.Array(requests.Select(r => r.From).ToArray(), NpgsqlDbType.Bigint));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result[(int)reader.GetInt64(0) - 1] = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
        return result;
    }

    /// <summary>For each request, its entity's events not marked deleted between From and To (inclusive), at most Max, in order.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<StoredEvent>>> EventsAsync(IReadOnlyList<EventRange> requests, CancellationToken ct = default)
    {
        var result = new List<StoredEvent>[requests.Count];
        for (var i = 0; i < result.Length; i++) result[i] = [];
        await using var cmd = Db.Command(dataSource, EventsSql,
            Db.Array(requests.Select(r => r.PersistenceId).ToArray(), NpgsqlDbType.Text),
            Db.Array(requests.Select(r => r.From).ToArray(), NpgsqlDbType.Bigint),
            Db.Array(requests.Select(r => r.To).ToArray(), NpgsqlDbType.Bigint),
            Db.Array(requests.Select(r => r.Max).ToArray(), NpgsqlDbType.Bigint));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var i = (int)reader.GetInt64(0) - 1;
            result[i].Add(new StoredEvent(requests[i].PersistenceId, reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<byte[]>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return result;
    }
}

/// <summary>A snapshot row: <paramref name="Created"/> in UTC ticks, the payload as its serializer wrote it.</summary>
public sealed record StoredSnapshot(string PersistenceId, long SequenceNr, long Created, byte[] Payload, string? Manifest, int? SerializerId);

/// <summary>A journal row: <paramref name="Created"/> in UTC ticks, the payload as its serializer wrote it.</summary>
public sealed record StoredEvent(string PersistenceId, long SequenceNr, long Created, byte[] Payload, string? Manifest, int? SerializerId, string? WriterUuid);

/// <summary>Events From..To (inclusive) of one entity, at most Max of them.</summary>
public readonly record struct EventRange(string PersistenceId, long From, long To, long Max);
