using System.Collections.Frozen;
using System.Text.Json;
using Npgsql;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Storage;

/// <summary>A region as stored: its spec, when it was created and changed, and whether it is retired.</summary>
public sealed record RegionRecord(RegionSpec Spec, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? RetiredAt)
{
    public string Name => Spec.Name;
    public bool IsActive => RetiredAt is null;
}

/// <summary>One audit row of a region: who changed it, when, and its values before and after (null when absent).</summary>
public sealed record RegionAuditEntry(long Id, string Region, string Action, string Actor, DateTimeOffset At, string? OldValue, string? NewValue);

public enum RegionChange { Done, NotFound, Conflict, Retired }

/// <summary>
/// Every region, all at once, by name regardless of case. Readers (ingestion for each batch,
/// region actors for each emission, the gateway's routes) never query: they read this immutable
/// snapshot, which the catalog replaces at most every refresh interval.
/// </summary>
public sealed class RegionSet
{
    private readonly FrozenDictionary<string, RegionRecord> _byName;

    public RegionSet(IEnumerable<RegionRecord> regions, DateTimeOffset loadedAt)
    {
        // In the order they were created (the seed's order for seeded ones): the simulator deals its meters round-robin over this.
        All = regions.OrderBy(r => r.CreatedAt).ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ToArray();
        _byName = All.ToFrozenDictionary(r => r.Name, StringComparer.OrdinalIgnoreCase);
        Active = All.Where(r => r.IsActive).ToArray();
        LoadedAt = loadedAt;
    }

    public static RegionSet Empty { get; } = new([], DateTimeOffset.MinValue);

    public IReadOnlyList<RegionRecord> All { get; }
    public IReadOnlyList<RegionRecord> Active { get; }
    public DateTimeOffset LoadedAt { get; }

    /// <summary>The region named <paramref name="name"/> in any case, retired or not.</summary>
    public RegionRecord? Find(string? name) => name is not null && _byName.TryGetValue(name, out var region) ? region : null;

    /// <summary>The active region named <paramref name="name"/> in any case.</summary>
    public RegionRecord? FindActive(string? name) => Find(name) is { IsActive: true } region ? region : null;
}

/// <summary>
/// The <c>regions</c> table and its audit (<c>region_audit</c>), with a cached snapshot for the
/// hot paths. Changes made through this instance are visible in its snapshot at once; changes
/// made by another process are picked up by <see cref="RefreshAsync"/>, which
/// <see cref="GetAsync"/> calls when the snapshot is older than <see cref="RefreshInterval"/>
/// and which a node also runs on a timer (so a capacity change reaches the region actors within
/// that interval, without a restart).
/// </summary>
public sealed class RegionCatalog : IDisposable
{
    public const string SeedActor = "seed:configuration";
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(10);

    private const string Columns = "name, capacity_kw, nominal_voltage, time_zone, created_at, updated_at, retired_at";

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile RegionSet _snapshot = RegionSet.Empty;

    public RegionCatalog(NpgsqlDataSource dataSource, TimeProvider? time = null, TimeSpan? refreshInterval = null)
    {
        _dataSource = dataSource;
        _time = time ?? TimeProvider.System;
        RefreshInterval = refreshInterval ?? DefaultRefreshInterval;
    }

    public TimeSpan RefreshInterval { get; }

    /// <summary>The snapshot as last loaded, without I/O (empty before the first load).</summary>
    public RegionSet Current => _snapshot;

    /// <summary>
    /// The snapshot, reloaded first when it is older than <see cref="RefreshInterval"/>. While
    /// PostgreSQL cannot answer, the last loaded snapshot is used (regions change rarely; the
    /// readers keep working); only a catalog never loaded throws.
    /// </summary>
    public async ValueTask<RegionSet> GetAsync(CancellationToken ct = default)
    {
        var snapshot = _snapshot;
        if (IsFresh(snapshot))
            return snapshot;
        try
        {
            return await LoadAsync(onlyWhenStale: true, ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && snapshot.LoadedAt > DateTimeOffset.MinValue)
        {
            return snapshot;
        }
    }

    /// <summary>Reloads every region now (one query).</summary>
    public Task<RegionSet> RefreshAsync(CancellationToken ct = default) => LoadAsync(onlyWhenStale: false, ct);

    private bool IsFresh(RegionSet snapshot) => _time.GetUtcNow() - snapshot.LoadedAt < RefreshInterval;

    private async Task<RegionSet> LoadAsync(bool onlyWhenStale, CancellationToken ct)
    {
        await _refreshing.WaitAsync(ct);
        try
        {
            // Callers that queued behind a load share its result.
            if (onlyWhenStale && IsFresh(_snapshot))
                return _snapshot;
            var regions = new List<RegionRecord>();
            await using (var cmd = Db.Command(_dataSource, $"SELECT {Columns} FROM regions"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    regions.Add(Read(reader));
            }
            return _snapshot = new RegionSet(regions, _time.GetUtcNow());
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>Reloads every <see cref="RefreshInterval"/> until cancelled; a failed load is logged by the caller's next attempt.</summary>
    public Task RunRefreshAsync(Action<Exception> onError, CancellationToken ct) =>
        PeriodicReload.RunAsync(RefreshInterval, _time, RefreshAsync, onError, ct);

    /// <summary>
    /// Writes <paramref name="regions"/> into an empty table (audited as seeded by configuration);
    /// does nothing once any region exists, so configuration never overrides the operator.
    /// Safe when several nodes start at once. Returns how many regions it wrote.
    /// </summary>
    public static async Task<int> SeedIfEmptyAsync(NpgsqlDataSource dataSource, IEnumerable<RegionSpec> regions, CancellationToken ct = default)
    {
        var specs = regions.ToArray();
        foreach (var spec in specs)
        {
            if (Regions.Check(spec) is { Count: > 0 } errors)
                throw new InvalidOperationException($"SmartGrid:Regions: region '{spec.Name}': {string.Join("; ", errors.Select(e => $"{e.Field} {e.Reason}"))}");
        }
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The lock orders concurrent seeders: the second one sees the first one's rows.
        await using (var lockCmd = Db.Command(conn, tx, "LOCK TABLE regions IN SHARE ROW EXCLUSIVE MODE"))
            await lockCmd.ExecuteNonQueryAsync(ct);
        await using (var any = Db.Command(conn, tx, "SELECT EXISTS (SELECT 1 FROM regions)"))
        {
            if (await any.ExecuteScalarAsync(ct) is true)
                return 0;
        }
        var written = 0;
        foreach (var spec in specs.DistinctBy(s => s.Name, StringComparer.OrdinalIgnoreCase))
        {
            await InsertAsync(conn, tx, spec, ct);
            await AuditAsync(conn, tx, spec.Name, "seeded", SeedActor, null, spec, ct);
            written++;
        }
        await tx.CommitAsync(ct);
        return written;
    }

    /// <summary>Creates a region; <see cref="RegionChange.Conflict"/> when one of that name exists in any case (retired too).</summary>
    public async Task<(RegionChange Outcome, RegionRecord? Region)> CreateAsync(RegionSpec spec, string actor, CancellationToken ct = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        RegionRecord? created;
        try
        {
            created = await InsertAsync(conn, tx, spec, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return (RegionChange.Conflict, null);
        }
        await AuditAsync(conn, tx, spec.Name, "created", actor, null, spec, ct);
        await tx.CommitAsync(ct);
        // Not GetAsync: a load under way may have read the table before this commit.
        await RefreshAsync(ct);
        return (RegionChange.Done, created);
    }

    /// <summary>Changes capacity, voltage and time zone of a region (found in any case; its name stays).</summary>
    public Task<(RegionChange Outcome, RegionRecord? Region)> UpdateAsync(string name, double capacityKw, double nominalVoltage, string timeZone,
        string actor, CancellationToken ct = default) =>
        ChangeAsync(name, "updated", actor,
            "UPDATE regions SET capacity_kw = $2, nominal_voltage = $3, time_zone = $4, updated_at = now() WHERE name = $1 RETURNING " + Columns,
            [capacityKw, nominalVoltage, timeZone], ct);

    /// <summary>Retires a region: it keeps its history but takes no readings or meters any more.</summary>
    public Task<(RegionChange Outcome, RegionRecord? Region)> RetireAsync(string name, string actor, CancellationToken ct = default) =>
        ChangeAsync(name, "retired", actor,
            "UPDATE regions SET retired_at = now(), updated_at = now() WHERE name = $1 RETURNING " + Columns, [], ct);

    /// <summary>The audit of a region (any case), oldest first.</summary>
    public async Task<IReadOnlyList<RegionAuditEntry>> AuditOfAsync(string name, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource,
            "SELECT id, region, action, actor, at, old_value::text, new_value::text FROM region_audit WHERE lower(region) = lower($1) ORDER BY id", name);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var entries = new List<RegionAuditEntry>();
        while (await reader.ReadAsync(ct))
        {
            entries.Add(new RegionAuditEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return entries;
    }

    private async Task<(RegionChange, RegionRecord?)> ChangeAsync(string name, string action, string actor, string sql, object[] values,
        CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        RegionRecord? before;
        await using (var find = Db.Command(conn, tx, $"SELECT {Columns} FROM regions WHERE lower(name) = lower($1) FOR UPDATE", name))
        {
            await using var reader = await find.ExecuteReaderAsync(ct);
            before = await reader.ReadAsync(ct) ? Read(reader) : null;
        }
        if (before is null)
            return (RegionChange.NotFound, null);
        if (!before.IsActive)
            return (RegionChange.Retired, before);

        RegionRecord after;
        await using (var update = Db.Command(conn, tx, sql, [before.Name, .. values]))
        {
            await using var reader = await update.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            after = Read(reader);
        }
        await AuditAsync(conn, tx, before.Name, action, actor, before.Spec, after.Spec, ct, before.RetiredAt, after.RetiredAt);
        await tx.CommitAsync(ct);
        // Not GetAsync: a load under way may have read the table before this commit.
        await RefreshAsync(ct);
        return (RegionChange.Done, after);
    }


    private static async Task<RegionRecord> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, RegionSpec spec, CancellationToken ct)
    {
        await using var cmd = Db.Command(conn, tx,
            // clock_timestamp, not now(): regions seeded in one transaction keep their order.
            $"INSERT INTO regions (name, capacity_kw, nominal_voltage, time_zone, created_at, updated_at) VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp()) RETURNING {Columns}",
            spec.Name, spec.CapacityKw, spec.NominalVoltage, spec.TimeZone);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return Read(reader);
    }

    private static async Task AuditAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string region, string action, string actor,
        RegionSpec? before, RegionSpec? after, CancellationToken ct, DateTimeOffset? retiredBefore = null, DateTimeOffset? retiredAfter = null)
    {
        await using var cmd = Db.Command(conn, tx,
            "INSERT INTO region_audit (region, action, actor, old_value, new_value) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
            region, action, actor, AuditJson(before, retiredBefore), AuditJson(after, retiredAfter));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string? AuditJson(RegionSpec? spec, DateTimeOffset? retiredAt) => spec is null
        ? null
        : JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["name"] = spec.Name,
            ["capacity_kw"] = spec.CapacityKw,
            ["nominal_voltage"] = spec.NominalVoltage,
            ["time_zone"] = spec.TimeZone,
            ["retired_at"] = retiredAt,
        });

    private static RegionRecord Read(NpgsqlDataReader reader) => new(
        new RegionSpec(reader.GetString(0), reader.GetDouble(1)) { NominalVoltage = reader.GetDouble(2), TimeZone = reader.GetString(3) },
        reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6));

    public void Dispose() => _refreshing.Dispose();
}

/// <summary>The region a reading is counted in, or why it may not be counted (a reason for the field <c>region</c>).</summary>
public readonly record struct RegionVerdict(string? Region, string? Error);

public static class RegionClaims
{
    /// <summary>
    /// The one rule for a reading's region, wherever the reading came from: a region it names must
    /// exist and be active; a registered meter's readings are counted in its registered region
    /// (naming another is refused, naming none takes it); an unregistered meter's readings can only
    /// be counted in the region they name.
    /// </summary>
    public static RegionVerdict Resolve(this RegionSet regions, string meterId, string? claimed, string? registered)
    {
        var named = claimed is null ? null : regions.Find(claimed);
        if (claimed is not null && named is null)
            return new(null, $"'{claimed}' is not a region");
        if (named is { IsActive: false })
            return new(null, $"region '{named.Name}' is retired");
        if (registered is null)
            return named is null ? new(null, $"meter '{meterId}' is not registered and the reading names no region") : new(named.Name, null);
        if (named is not null && !string.Equals(named.Name, registered, StringComparison.OrdinalIgnoreCase))
            return new(null, $"meter '{meterId}' is registered in region '{registered}', not '{named.Name}'");
        return regions.FindActive(registered) is { } home
            ? new(home.Name, null)
            : new(null, $"meter '{meterId}' is registered in '{registered}', which is not an active region");
    }
}

/// <summary>The timer of a table cached in memory (regions, the grid's tree): reload every interval until cancelled.</summary>
internal static class PeriodicReload
{
    /// <summary>A failed load (the database away) is reported and the last one kept; the next tick tries again.</summary>
    public static async Task RunAsync<T>(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task<T>> reload, Action<Exception> onError,
        CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                await reload(ct);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                onError(e);
            }
        }
    }
}
