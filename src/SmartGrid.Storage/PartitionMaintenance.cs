using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// Owns the daily partitions of the time-series tables in native mode: creates them ahead of
/// time (startup and an hourly job: [now - retention, now + 2 days]) and on demand for a
/// timestamp no partition covers yet (writers call <see cref="EnsureCoveredAsync"/> before each
/// batch; a cache of known partitions makes that a dictionary lookup in the steady state), and
/// drops the partitions that are wholly past their table's retention.
/// DDL runs under a per-table transaction-scoped advisory lock, so processes never race on it.
/// In TimescaleDB mode the extension does all of this and every method here is a no-op.
/// </summary>
public sealed class PartitionMaintenance
{
    /// <summary>How far ahead of "now" partitions are created by <see cref="EnsureStartupRangeAsync"/>.</summary>
    public static readonly TimeSpan Lookahead = TimeSpan.FromDays(2);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Table, DateOnly Day), byte> _known = new();
    private volatile StrongBox<TimeSeriesMode>? _mode;

    public PartitionMaintenance(NpgsqlDataSource dataSource, ILogger<PartitionMaintenance>? log = null, TimeProvider? time = null)
    {
        _dataSource = dataSource;
        _log = (ILogger?)log ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The database's scheme, read once from <c>storage_settings</c>.</summary>
    public async Task<TimeSeriesMode> GetModeAsync(CancellationToken ct = default)
    {
        if (_mode is { } known)
            return known.Value;

        await using var cmd = Db.Command(_dataSource, "SELECT value FROM storage_settings WHERE key = 'time_series_mode'");
        var value = await cmd.ExecuteScalarAsync(ct) as string
            ?? throw new InvalidOperationException("storage_settings has no time_series_mode: run DatabaseMigrator.Migrate first.");
        var mode = value switch
        {
            "native" => TimeSeriesMode.Native,
            "timescaledb" => TimeSeriesMode.TimescaleDb,
            _ => throw new InvalidOperationException($"Unknown time_series_mode '{value}'."),
        };
        _mode = new StrongBox<TimeSeriesMode>(mode);
        return mode;
    }

    /// <summary>
    /// Hot path: makes sure a partition covers every timestamp. Without I/O when all their days
    /// are known to this process; otherwise creates what is missing (one short DDL transaction).
    /// </summary>
    public ValueTask EnsureCoveredAsync(TimeSeriesTable table, IEnumerable<DateTimeOffset> timestamps, CancellationToken ct = default)
    {
        if (_mode is { Value: TimeSeriesMode.TimescaleDb })
            return ValueTask.CompletedTask;

        List<DateOnly>? missing = null;
        foreach (var ts in timestamps)
        {
            var day = DayOf(ts);
            if (!_known.ContainsKey((table.Name, day)) && !(missing?.Contains(day) ?? false))
                (missing ??= []).Add(day);
        }
        return missing is null ? ValueTask.CompletedTask : new ValueTask(EnsureDaysAsync(table, missing, ct));
    }

    /// <summary>Creates the daily partitions of <paramref name="table"/> covering [from, to]; returns how many were created.</summary>
    public Task<int> EnsurePartitionsAsync(TimeSeriesTable table, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        if (to < from)
            throw new ArgumentException("'to' is before 'from'.", nameof(to));
        var days = new List<DateOnly>();
        for (var day = DayOf(from); day <= DayOf(to); day = day.AddDays(1))
            days.Add(day);
        return EnsureDaysAsync(table, days, ct);
    }

    /// <summary>Every table: partitions for [now - its retention, now + <see cref="Lookahead"/>]. Returns how many were created.</summary>
    public async Task<int> EnsureStartupRangeAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        var created = 0;
        foreach (var table in TimeSeriesTable.All)
            created += await EnsurePartitionsAsync(table, now - table.Retention, now + Lookahead, ct);
        return created;
    }

    /// <summary>
    /// Drops, per table, the partitions whose upper bound is at or before now - retention (rows
    /// inside retention are never touched) and returns them. Native mode only; with TimescaleDB
    /// the retention policies of migration 0002 drop chunks and this returns nothing.
    /// </summary>
    public async Task<IReadOnlyList<TimeSeriesPartition>> DropExpiredAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        if (await GetModeAsync(ct) != TimeSeriesMode.Native)
            return [];

        var dropped = new List<TimeSeriesPartition>();
        foreach (var table in TimeSeriesTable.All)
        {
            var cutoff = now - table.Retention;
            await using var conn = await _dataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await LockTableAsync(conn, table, ct);

            var expired = (await ListPartitionsAsync(conn, table, ct)).Where(p => p.To <= cutoff).ToList();
            if (expired.Count == 0)
                continue;

            var ddl = new StringBuilder();
            foreach (var p in expired)
                ddl.Append("DROP TABLE IF EXISTS ").Append(p.Name).Append(";\n");
            await using (var cmd = Db.Command(conn, tx, ddl.ToString()))
                await cmd.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);

            foreach (var p in expired)
                _known.TryRemove((table.Name, DateOnly.FromDateTime(p.From.UtcDateTime)), out _);
            dropped.AddRange(expired);
            _log.PartitionsDropped(expired.Count, table.Name, table.Retention, cutoff);
        }
        return dropped;
    }

    /// <summary>The native daily partitions of a table, oldest first.</summary>
    public async Task<IReadOnlyList<TimeSeriesPartition>> ListPartitionsAsync(TimeSeriesTable table, CancellationToken ct = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        return await ListPartitionsAsync(conn, table, ct);
    }

    /// <summary>
    /// The hourly job: keeps the startup range covered and drops expired partitions until
    /// cancelled. Failures are logged and retried on the next tick.
    /// </summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, _time);
        do
        {
            try
            {
                var now = _time.GetUtcNow();
                await EnsureStartupRangeAsync(now, ct);
                await DropExpiredAsync(now, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                _log.PartitionMaintenanceFailed(ex, interval);
            }
        }
        while (await WaitAsync(timer, ct));
    }

    /// <summary>Forgets cached partitions so the next write re-checks them (a partition vanished under a writer).</summary>
    internal void Forget(TimeSeriesTable table, IEnumerable<DateTimeOffset> timestamps)
    {
        foreach (var ts in timestamps)
            _known.TryRemove((table.Name, DayOf(ts)), out _);
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<int> EnsureDaysAsync(TimeSeriesTable table, IReadOnlyCollection<DateOnly> days, CancellationToken ct)
    {
        if (await GetModeAsync(ct) != TimeSeriesMode.Native)
            return 0;

        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockTableAsync(conn, table, ct);

        // Under the lock the catalog is the truth: another process may have created some already.
        var existing = (await ListPartitionsAsync(conn, table, ct))
            .Select(p => DateOnly.FromDateTime(p.From.UtcDateTime))
            .ToHashSet();
        var missing = days.Where(d => !existing.Contains(d)).Distinct().Order().ToList();

        if (missing.Count > 0)
        {
            var ddl = new StringBuilder();
            foreach (var day in missing)
            {
                ddl.Append(CultureInfo.InvariantCulture,
                    $"CREATE TABLE IF NOT EXISTS {table.PartitionName(day)} PARTITION OF {table.Name} ")
                   .Append(CultureInfo.InvariantCulture,
                    $"FOR VALUES FROM ('{Bound(day)}') TO ('{Bound(day.AddDays(1))}');\n");
            }
            await using var cmd = Db.Command(conn, tx, ddl.ToString());
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);

        foreach (var day in existing.Concat(missing))
            _known.TryAdd((table.Name, day), 0);
        if (missing.Count > 0)
        {
            _log.PartitionsCreated(missing.Count, table.Name, missing[0], missing[^1]);
        }
        return missing.Count;
    }

    private static async Task LockTableAsync(NpgsqlConnection conn, TimeSeriesTable table, CancellationToken ct)
    {
        await using (var cmd = Db.Command(conn, null, "SELECT pg_advisory_xact_lock($1, hashtext($2))", AdvisoryLocks.Partitions, table.Name))
            await cmd.ExecuteNonQueryAsync(ct);
        // CREATE ... PARTITION OF and DROP take an ACCESS EXCLUSIVE lock on the parent; while that
        // waits (e.g. behind a long report query) every insert queues behind it. The lock timeout
        // (set after the advisory lock, which may wait for another process's DDL) bounds that
        // stall: the DDL fails instead and is retried by the next write or maintenance tick.
        await using (var timeout = Db.Command(conn, null, "SET LOCAL lock_timeout = '5s'"))
            await timeout.ExecuteNonQueryAsync(ct);
    }

    private static async Task<IReadOnlyList<TimeSeriesPartition>> ListPartitionsAsync(
        NpgsqlConnection conn, TimeSeriesTable table, CancellationToken ct)
    {
        // Partitions are recognised by the names this class gives them; others are left alone.
        await using var cmd = Db.Command(conn, null,
            """
            SELECT c.relname
            FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass
            """,
            table.Name);
        var partitions = new List<TimeSeriesPartition>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var name = reader.GetString(0);
            if (table.TryParsePartitionDay(name, out var day))
                partitions.Add(new TimeSeriesPartition(table.Name, name, StartOf(day), StartOf(day.AddDays(1))));
        }
        partitions.Sort((a, b) => a.From.CompareTo(b.From));
        return partitions;
    }

    private static DateOnly DayOf(DateTimeOffset ts) => DateOnly.FromDateTime(ts.UtcDateTime);

    private static DateTimeOffset StartOf(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static string Bound(DateOnly day) =>
        day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " 00:00:00+00";
}
