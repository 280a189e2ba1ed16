using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// The <c>meters</c> registry. A meter is auto-provisioned the first time it is seen (INSERT ...
/// ON CONFLICT DO NOTHING, so concurrent first sightings on several nodes are harmless) and its
/// first region sticks. Known meters are cached with their stored region, so the steady state
/// (every meter already seen by this process) does no I/O.
/// </summary>
public sealed class MeterRegistry
{
    // Inserted rows come back from the CTE; rows that already existed come from the table (the
    // statement's snapshot does not see the CTE's own inserts, so the two sets do not overlap).
    private const string EnsureSql =
        """
        WITH input AS (
            SELECT * FROM unnest($1::text[], $2::text[]) AS u(meter_id, region)
        ), inserted AS (
            INSERT INTO meters (meter_id, region, registered_at, auto_provisioned)
            SELECT meter_id, region, now(), true FROM input
            ON CONFLICT (meter_id) DO NOTHING
            RETURNING meter_id, region
        )
        SELECT meter_id, region, true FROM inserted
        UNION ALL
        SELECT m.meter_id, m.region, false FROM meters m JOIN input i ON i.meter_id = m.meter_id
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ConcurrentDictionary<string, string> _regions = new(StringComparer.Ordinal);

    public MeterRegistry(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>
    /// Registers the meters not registered yet (auto_provisioned = true) with the given region;
    /// returns how many this call registered. A meter seen twice in the input keeps its first region.
    /// </summary>
    public async Task<int> EnsureRegisteredAsync(IEnumerable<(string MeterId, string Region)> meters, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Dictionary<string, string>? unknown = null;
        foreach (var (meterId, region) in meters)
        {
            ArgumentException.ThrowIfNullOrEmpty(meterId);
            ArgumentException.ThrowIfNullOrEmpty(region);
            if (!_regions.ContainsKey(meterId))
                (unknown ??= new Dictionary<string, string>(StringComparer.Ordinal)).TryAdd(meterId, region);
        }
        if (unknown is null)
            return 0;

        await using var cmd = Db.Command(_dataSource, EnsureSql,
            Db.Array(unknown.Keys.ToArray(), NpgsqlDbType.Text), Db.Array(unknown.Values.ToArray(), NpgsqlDbType.Text));
        var registered = 0;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            _regions[reader.GetString(0)] = reader.GetString(1);
            if (reader.GetBoolean(2))
                registered++;
        }
        // A meter inserted by a concurrent transaction after this statement's snapshot is in
        // neither set; it stays uncached and the next call looks it up again.
        return registered;
    }

    /// <summary>
    /// The stored regions of those of <paramref name="meterIds"/> that are registered (absent
    /// from the answer: not registered); cached meters cost nothing, the rest one query.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> GetRegionsAsync(IEnumerable<string> meterIds, CancellationToken ct = default)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        HashSet<string>? misses = null;
        foreach (var meterId in meterIds)
        {
            if (found.ContainsKey(meterId))
                continue;
            if (_regions.TryGetValue(meterId, out var cached))
                found[meterId] = cached;
            else
                (misses ??= new HashSet<string>(StringComparer.Ordinal)).Add(meterId);
        }
        if (misses is null)
            return found;

        await using var cmd = Db.Command(_dataSource, "SELECT meter_id, region FROM meters WHERE meter_id = ANY($1)",
            Db.Array(misses.ToArray(), NpgsqlDbType.Text));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found[reader.GetString(0)] = _regions[reader.GetString(0)] = reader.GetString(1);
        return found;
    }

    /// <summary>
    /// Registered meters per region (a region without any is absent): the meters a region's window
    /// is expected to hear from. The registry has no per-meter retirement, so every registered meter counts.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, int>> CountByRegionAsync(IReadOnlyList<string> regions, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource, "SELECT region, count(*)::int FROM meters WHERE region = ANY ($1) GROUP BY region",
            Db.Array(regions.ToArray(), NpgsqlDbType.Text));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            counts[reader.GetString(0)] = reader.GetInt32(1);
        return counts;
    }

    public async Task<bool> IsRegisteredAsync(string meterId, CancellationToken ct = default) =>
        await GetRegionAsync(meterId, ct) is not null;

    /// <summary>The stored region of a meter, or null when it is not registered.</summary>
    public async Task<string?> GetRegionAsync(string meterId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(meterId);
        if (_regions.TryGetValue(meterId, out var cached))
            return cached;

        await using var cmd = Db.Command(_dataSource, "SELECT region FROM meters WHERE meter_id = $1", meterId);
        if (await cmd.ExecuteScalarAsync(ct) is not string region)
            return null;
        _regions[meterId] = region;
        return region;
    }
}
