using SmartGrid.Gateway.Http;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using SmartGrid.Services;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Common;
using SmartGrid.Services.Tariffs;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Tariffs;

/// <summary>A region's price in force and where the gateway found it (cache = Redis, database = PostgreSQL).</summary>
public sealed record TariffInForce(CachedTariff Tariff, string Source);

/// <summary>One row of a region's price history (tariffs).</summary>
public sealed record TariffHistoryEntry(
    Guid TariffId, string Region, decimal PricePerKwh, decimal? OldPrice, DateTimeOffset EffectiveFrom, string Reason, Guid? OverrideId,
    double? LoadPercent);

/// <summary>An admin override as stored in tariff_overrides.</summary>
public sealed record TariffOverride(
    Guid OverrideId, string Region, decimal? PricePerKwh, decimal? Percentage, DateTimeOffset ValidFrom, DateTimeOffset ValidTo,
    string? Reason, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LiftedAt, string? LiftedBy);

public enum LiftOutcome { Lifted, NotFound, AlreadyLifted, Ended }

/// <summary>
/// The gateway's side of the tariffs: reads the price in force the way the TariffManager keeps it
/// (Redis <see cref="RedisKeyspace.Tariff"/> holding a <see cref="CachedTariff"/>, else the
/// newest tariffs row, then cached), and writes admin overrides. It never decides a price: the
/// TariffManager does, from the overrides table and the tariff_overrides topic.
/// </summary>
public sealed class TariffStore(NpgsqlDataSource db, RedisGuard redis, GridServicesOptions services, ILogger<TariffStore> log)
{
    private const string OverrideColumns =
        "override_id, region, price_per_kwh, percentage, valid_from, valid_to, reason, created_by, created_at, lifted_at, lifted_by";

    private IDatabase Cache => redis.Database(services.Redis.Database);

    /// <summary>Redis first; on a miss (or Redis down) the newest tariffs row, which is then cached for the TariffManager's TTL.</summary>
    public async Task<TariffInForce?> CurrentAsync(string region, CancellationToken ct)
    {
        var key = services.Redis.Tariff(region);
        try
        {
            var cached = await Cache.StringGetAsync(key);
            if (cached.HasValue)
                return new TariffInForce(WireJson.Deserialize<CachedTariff>(cached.ToString()), "cache");
        }
        catch (Exception e) when (e is RedisException or TimeoutException or JsonException)
        {
            redis.Failed(e);
            log.LogWarning(e, "Tariff of {Region} not read from Redis; reading PostgreSQL", region);
        }

        await using var cmd = db.CreateCommand(
            "SELECT tariff_id, price_per_kwh, effective_from, reason FROM tariffs WHERE region = $1 ORDER BY seq DESC LIMIT 1");
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = region });
        CachedTariff tariff;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
                return null;
            tariff = new CachedTariff(reader.GetGuid(0), region, reader.GetDecimal(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3));
        }
        try
        {
            // Only when absent: the TariffManager may have cached a newer price since our read,
            // and an older one must not overwrite it for a whole TTL.
            await Cache.StringSetAsync(key, WireJson.Serialize(tariff), services.Tariffs.CacheTtl, When.NotExists);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            redis.Failed(e);
            log.LogWarning(e, "Tariff of {Region} not cached: Redis unavailable", region);
        }
        return new TariffInForce(tariff, "database");
    }

    /// <summary>A page of the region's price history within [from, to) on effective_from, newest first, and the total.</summary>
    public async Task<(IReadOnlyList<TariffHistoryEntry> Items, long Total)> HistoryAsync(string region, DateTimeOffset from, DateTimeOffset to,
        int limit, int offset, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            """
            SELECT tariff_id, price_per_kwh, old_price, effective_from, reason, override_id, load_percent, count(*) OVER ()
            FROM tariffs WHERE region = $1 AND effective_from >= $2 AND effective_from < $3
            ORDER BY effective_from DESC, seq DESC LIMIT $4 OFFSET $5
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = region });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = from });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = to });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = offset });
        var items = new List<TariffHistoryEntry>();
        long total = 0;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(new TariffHistoryEntry(reader.GetGuid(0), region, reader.GetDecimal(1), reader.IsDBNull(2) ? null : reader.GetDecimal(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetGuid(5),
                reader.IsDBNull(6) ? null : reader.GetDouble(6)));
            total = reader.GetInt64(7);
        }
        return (items, total);
    }

    public async Task CreateOverrideAsync(TariffOverride o, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            """
            INSERT INTO tariff_overrides (override_id, region, price_per_kwh, percentage, valid_from, valid_to, reason, created_by, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """);
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = o.OverrideId });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.Region });
        cmd.Parameters.Add(Numeric(o.PricePerKwh));
        cmd.Parameters.Add(Numeric(o.Percentage));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = o.ValidFrom });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = o.ValidTo });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)o.Reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = o.CreatedBy });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = o.CreatedAt });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Overrides, newest first; <paramref name="inForceOrAhead"/> keeps those neither lifted nor over at <paramref name="now"/>.</summary>
    public async Task<(IReadOnlyList<TariffOverride> Items, long Total)> ListOverridesAsync(string? region, bool inForceOrAhead, DateTimeOffset now,
        int limit, int offset, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            $"""
            SELECT {OverrideColumns}, count(*) OVER () FROM tariff_overrides
            WHERE ($1::text IS NULL OR region = $1) AND (NOT $2 OR (lifted_at IS NULL AND valid_to > $3))
            ORDER BY created_at DESC, override_id LIMIT $4 OFFSET $5
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)region ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = inForceOrAhead });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = offset });
        var items = new List<TariffOverride>();
        long total = 0;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            items.Add(ReadOverride(reader));
            total = reader.GetInt64(11);
        }
        return (items, total);
    }

    public async Task<TariffOverride?> FindOverrideAsync(Guid id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {OverrideColumns} FROM tariff_overrides WHERE override_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadOverride(reader) : null;
    }

    /// <summary>Ends an override early; only one that is not lifted yet and has not ended.</summary>
    public async Task<(LiftOutcome Outcome, TariffOverride? Override)> LiftOverrideAsync(Guid id, string by, DateTimeOffset now, CancellationToken ct)
    {
        await using (var cmd = db.CreateCommand(
            $"""
            UPDATE tariff_overrides SET lifted_at = $2, lifted_by = $3
            WHERE override_id = $1 AND lifted_at IS NULL AND valid_to > $2
            RETURNING {OverrideColumns}
            """))
        {
            cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
                return (LiftOutcome.Lifted, ReadOverride(reader));
        }
        var existing = await FindOverrideAsync(id, ct);
        return existing switch
        {
            null => (LiftOutcome.NotFound, null),
            { LiftedAt: not null } => (LiftOutcome.AlreadyLifted, existing),
            _ => (LiftOutcome.Ended, existing),
        };
    }

    private static TariffOverride ReadOverride(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetDecimal(2), r.IsDBNull(3) ? null : r.GetDecimal(3),
        r.GetFieldValue<DateTimeOffset>(4), r.GetFieldValue<DateTimeOffset>(5), r.IsDBNull(6) ? null : r.GetString(6), r.GetString(7),
        r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9), r.IsDBNull(10) ? null : r.GetString(10));

    private static NpgsqlParameter Numeric(decimal? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric };
}
