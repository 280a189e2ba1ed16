using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// Deletes the Akka journal's events that nobody will read again, and snapshots nobody will load
/// again, so journal and snapshot bytes per entity stay flat however long the node runs.
/// </summary>
/// <remarks>
/// An event goes when all of these hold:
/// <list type="bullet">
/// <item>its persistence id is one of ours (<see cref="_persistenceIdPatterns"/>: meters and regions; Akka's
/// sharding internals keep their own retention);</item>
/// <item>its ordering is at or below the stored offset of every projection in <see cref="_projectionIds"/>
/// (a projection without a stored offset has read nothing, so nothing goes): an event a projection
/// has not read yet would otherwise never reach its tables;</item>
/// <item>a snapshot of its entity covers it (snapshot sequence number at or past its own), so
/// recovery never needs it;</item>
/// <item>it is not its entity's newest event: the journal answers "highest sequence number" from its
/// rows, and an entity whose rows were all gone would number its next events from 1 again, behind
/// its own snapshot. (Akka.Persistence.Sql's own DeleteMessagesTo keeps that row for the same reason.)</item>
/// </list>
/// Why a storage job rather than each entity calling DeleteMessagesTo: the projections' offsets are
/// journal orderings, which an entity never sees (it knows sequence numbers), so it would have to ask the
/// database for them anyway; and a passivated meter, the common case at scale, runs no code at all.
/// One set-based statement per range of orderings does the same for every entity, asleep or not.
/// Snapshots: each entity deletes its older snapshots when a new one is saved (Akka's criteria on
/// save, keeping the newest only, as events behind it are gone and an older snapshot could not be
/// replayed forward anyway); this job removes those a crash or failed delete left behind.
/// Runs are serialised across nodes by a session advisory lock; a node that does not get it skips.
/// A pass that deleted something vacuums the table, so new rows reuse the space and the tables' size stays flat.
/// </remarks>
public sealed class JournalCleanup
{
    /// <summary>Orderings examined per statement: bounds each DELETE's locks and its WAL burst.</summary>
    public const int OrderingsPerStatement = 20_000;

    private const string CutoffSql =
        """
        SELECT CASE WHEN count(*) = cardinality($1) THEN min(ordering) END
        FROM projection_offsets WHERE projection_id = ANY($1)
        """;

    private const string DeleteEventsSql =
        """
        DELETE FROM journal j
        WHERE j.ordering > $1 AND j.ordering <= $2
          AND j.persistence_id LIKE ANY($3)
          AND EXISTS (SELECT 1 FROM snapshot s WHERE s.persistence_id = j.persistence_id AND s.sequence_number >= j.sequence_number)
          AND EXISTS (SELECT 1 FROM journal n WHERE n.persistence_id = j.persistence_id AND n.sequence_number > j.sequence_number)
        """;

    private const string DeleteSnapshotsSql =
        """
        DELETE FROM snapshot s
        WHERE s.persistence_id LIKE ANY($1)
          AND EXISTS (SELECT 1 FROM snapshot n WHERE n.persistence_id = s.persistence_id AND n.sequence_number > s.sequence_number)
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string[] _projectionIds;
    private readonly string[] _persistenceIdPatterns;
    private readonly ILogger _log;
    private readonly TimeProvider _time;

    /// <param name="projectionIds">Every projection that reads the journal by tag; each must have stored an offset before anything goes.</param>
    /// <param name="persistenceIdPrefixes">The entities whose events and snapshots this job may delete (e.g. "meter-").</param>
    public JournalCleanup(NpgsqlDataSource dataSource, IEnumerable<string> projectionIds, IEnumerable<string> persistenceIdPrefixes,
        ILogger<JournalCleanup>? log = null, TimeProvider? time = null)
    {
        _dataSource = dataSource;
        _projectionIds = projectionIds.ToArray();
        _persistenceIdPatterns = persistenceIdPrefixes.Select(p =>
        {
            ArgumentException.ThrowIfNullOrEmpty(p);
            if (p.IndexOfAny(['%', '_', '\\']) >= 0) throw new ArgumentException($"persistence id prefix '{p}' holds a LIKE wildcard", nameof(persistenceIdPrefixes));
            return p + "%";
        }).ToArray();
        if (_projectionIds.Length == 0) throw new ArgumentException("at least one projection id is required", nameof(projectionIds));
        if (_persistenceIdPatterns.Length == 0) throw new ArgumentException("at least one persistence id prefix is required", nameof(persistenceIdPrefixes));
        _log = (ILogger?)log ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>One pass; returns what it deleted (nothing when another node holds the lock or the journal does not exist yet).</summary>
    public async Task<JournalCleanupResult> RunOnceAsync(CancellationToken ct = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        if (!await ScalarAsync<bool>(conn, "SELECT to_regclass('journal') IS NOT NULL AND to_regclass('snapshot') IS NOT NULL", ct))
            return new JournalCleanupResult(0, 0, null);
        if (!await ScalarAsync<bool>(conn, $"SELECT pg_try_advisory_lock({AdvisoryLocks.JournalCleanup}, 0)", ct))
            return new JournalCleanupResult(0, 0, null);
        try
        {
            var cutoff = await ScalarAsync<long?>(conn, CutoffSql, ct, Db.Array(_projectionIds, NpgsqlDbType.Text));
            long events = 0;
            if (cutoff is { } last && await ScalarAsync<long?>(conn, "SELECT min(ordering) - 1 FROM journal", ct) is { } from)
            {
                for (var lo = from; lo < last; lo += OrderingsPerStatement)
                {
                    await using var delete = Db.Command(conn, null, DeleteEventsSql,
                        lo, Math.Min(lo + OrderingsPerStatement, last), Db.Array(_persistenceIdPatterns, NpgsqlDbType.Text));
                    events += await delete.ExecuteNonQueryAsync(ct);
                }
            }
            await using var snapshots = Db.Command(conn, null, DeleteSnapshotsSql, Db.Array(_persistenceIdPatterns, NpgsqlDbType.Text));
            var deletedSnapshots = await snapshots.ExecuteNonQueryAsync(ct);
            // Without a vacuum the deleted rows' space waits for autovacuum, whose default threshold
            // (a fifth of the table) lets a busy journal grow for minutes between passes; a plain
            // VACUUM takes no lock that writers wait for and hands the space to the next inserts.
            if (events > 0) await VacuumAsync(conn, "journal", ct);
            if (deletedSnapshots > 0) await VacuumAsync(conn, "snapshot", ct);
            if (events + deletedSnapshots > 0)
                _log.JournalCleaned(events, cutoff, deletedSnapshots);
            return new JournalCleanupResult(events, deletedSnapshots, cutoff);
        }
        finally
        {
            await using var unlock = Db.Command(conn, null, $"SELECT pg_advisory_unlock({AdvisoryLocks.JournalCleanup}, 0)");
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Runs <see cref="RunOnceAsync"/> every <paramref name="interval"/> until cancelled, the first an interval after the
    /// start; a failed pass is logged and retried next time. Not at once: after a crash, the first pass deletes and
    /// vacuums behind a whole fleet's snapshots, and a restarted node's first seconds belong to its meters' recoveries
    /// and first checkpoint (README "Restart at scale"); nothing is lost by deleting a minute later.
    /// </summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, _time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                await RunOnceAsync(ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                _log.JournalCleanupFailed(ex, interval);
            }
        }
    }

    /// <summary>
    /// Without a command timeout: a vacuum of a journal holding millions of rows (50,000 meters that snapshotted
    /// together, a soak's 17th minute) ran for minutes, and at Npgsql's 30 s it failed every pass, its work lost,
    /// and the dead space grew. It blocks no writer, and the next pass waits for it (the advisory lock).
    /// </summary>
    private static async Task VacuumAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        await using var cmd = Db.Command(conn, null, $"VACUUM {table}");
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection conn, string sql, CancellationToken ct, params object?[] values)
    {
        await using var cmd = Db.Command(conn, null, sql, values);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default! : (T)value;
    }
}

/// <summary>What one cleanup pass deleted; <paramref name="Cutoff"/> is the projections' lowest offset (null: none stored, or the pass was skipped).</summary>
public readonly record struct JournalCleanupResult(long EventsDeleted, long SnapshotsDeleted, long? Cutoff);
