using Npgsql;
using NpgsqlTypes;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Storage.Tariffs;

/// <summary>One row of a region's price history (tariffs).</summary>
public sealed record TariffHistoryEntry(
    Guid TariffId, string Region, decimal PricePerKwh, decimal? OldPrice, DateTimeOffset EffectiveFrom, string Reason, Guid? OverrideId,
    double? LoadPercent);

/// <summary>An admin override as stored in tariff_overrides.</summary>
public sealed record TariffOverride(
    Guid OverrideId, string Region, decimal? PricePerKwh, decimal? Percentage, DateTimeOffset ValidFrom, DateTimeOffset ValidTo,
    string? Reason, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LiftedAt, string? LiftedBy);

/// <summary>What set a price (its tariffs row): a load-based price's 15-minute window and load, or an override.</summary>
public sealed record TariffBasis(Guid TariffId, string Reason, DateTimeOffset? SourceWindowStart, double? LoadPercent, Guid? OverrideId);

public enum LiftOutcome { Lifted, NotFound, AlreadyLifted, Ended }

/// <summary>
/// The tariff tables (tariffs, tariff_overrides, tariff_region_state) in one place: the TariffManager decides and
/// writes prices through <see cref="BeginAsync"/>; the gateway reads prices and history and writes admin overrides.
/// tariffs doubles as the outbox of tariff_updates (<see cref="UpdatesOutbox"/>).
/// </summary>
public sealed class TariffRecords(NpgsqlDataSource db)
{
    private const string OverrideColumns =
        "override_id, region, price_per_kwh, percentage, valid_from, valid_to, reason, created_by, created_at, lifted_at, lifted_by";

    /// <summary>The region's newest tariffs row, the price in force: $1 is the region.</summary>
    internal const string NewestSql =
        "SELECT tariff_id, price_per_kwh, effective_from, reason FROM tariffs WHERE region = $1 ORDER BY seq DESC LIMIT 1";

    /// <summary>tariffs as the outbox of tariff_updates, keyed by region: one partition per region keeps its updates in order.</summary>
    public static Outbox<TariffUpdateMessage, Guid> UpdatesOutbox { get; } = new(
        """
        SELECT tariff_id, region, old_price, price_per_kwh, effective_from, reason, triggered_by,
               override_id, load_percent, source_window_start, source_revision
        FROM tariffs WHERE published_at IS NULL AND reason <> 'base' ORDER BY seq
        """,
        ReadUpdate, u => u.Region, u => u.TariffId,
        "UPDATE tariffs SET published_at = now() WHERE tariff_id = ANY($1)");

    /// <summary>The price in force from PostgreSQL (the newest tariffs row); null before the region's first price.</summary>
    public async Task<CachedTariff?> NewestAsync(string region, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await ReadNewestAsync(connection, null, region);
    }

    /// <summary>What set each of the prices given (those found).</summary>
    public async Task<IReadOnlyList<TariffBasis>> BasesAsync(Guid[] tariffIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = Db.Command(connection, null,
            "SELECT tariff_id, reason, source_window_start, load_percent, override_id FROM tariffs WHERE tariff_id = ANY ($1)", (object)tariffIds);
        var bases = new List<TariffBasis>(tariffIds.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            bases.Add(new TariffBasis(reader.GetGuid(0), reader.GetString(1), reader.Get<DateTimeOffset?>("source_window_start"),
                reader.Get<double?>("load_percent"), reader.Get<Guid?>("override_id")));
        return bases;
    }

    /// <summary>A page of the region's price history within [from, to) on effective_from, newest first, and the total.</summary>
    public async Task<(IReadOnlyList<TariffHistoryEntry> Items, long Total)> HistoryAsync(string region, DateTimeOffset from, DateTimeOffset to,
        int limit, int offset, CancellationToken ct)
    {
        await using var cmd = Db.Command(db,
            """
            SELECT tariff_id, price_per_kwh, old_price, effective_from, reason, override_id, load_percent, count(*) OVER ()
            FROM tariffs WHERE region = $1 AND effective_from >= $2 AND effective_from < $3
            ORDER BY effective_from DESC, seq DESC LIMIT $4 OFFSET $5
            """,
            region, from, to);
        return await cmd.ReadPageAsync(limit, offset, reader => new TariffHistoryEntry(reader.GetGuid(0), region, reader.GetDecimal(1),
            reader.IsDBNull(2) ? null : reader.GetDecimal(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetGuid(5), reader.IsDBNull(6) ? null : reader.GetDouble(6)), ct);
    }

    public async Task CreateOverrideAsync(TariffOverride o, CancellationToken ct)
    {
        await using var cmd = Db.Command(db,
            """
            INSERT INTO tariff_overrides (override_id, region, price_per_kwh, percentage, valid_from, valid_to, reason, created_by, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            o.OverrideId, o.Region, Numeric(o.PricePerKwh), Numeric(o.Percentage), o.ValidFrom, o.ValidTo, Db.Text(o.Reason), o.CreatedBy, o.CreatedAt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Overrides, newest first; <paramref name="inForceOrAhead"/> keeps those neither lifted nor over at <paramref name="now"/>.</summary>
    public async Task<(IReadOnlyList<TariffOverride> Items, long Total)> ListOverridesAsync(string? region, bool inForceOrAhead, DateTimeOffset now,
        int limit, int offset, CancellationToken ct)
    {
        await using var cmd = Db.Command(db,
            $"""
            SELECT {OverrideColumns}, count(*) OVER () FROM tariff_overrides
            WHERE ($1::text IS NULL OR region = $1) AND (NOT $2 OR (lifted_at IS NULL AND valid_to > $3))
            ORDER BY created_at DESC, override_id LIMIT $4 OFFSET $5
            """,
            Db.Text(region), inForceOrAhead, now);
        return await cmd.ReadPageAsync(limit, offset, ReadOverride, ct);
    }

    public async Task<TariffOverride?> FindOverrideAsync(Guid id, CancellationToken ct)
    {
        await using var cmd = Db.Command(db, $"SELECT {OverrideColumns} FROM tariff_overrides WHERE override_id = $1", id);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadOverride(reader) : null;
    }

    /// <summary>Ends an override early; only one that is not lifted yet and has not ended.</summary>
    public async Task<(LiftOutcome Outcome, TariffOverride? Override)> LiftOverrideAsync(Guid id, string by, DateTimeOffset now, CancellationToken ct)
    {
        await using (var cmd = Db.Command(db,
            $"""
            UPDATE tariff_overrides SET lifted_at = $2, lifted_by = $3
            WHERE override_id = $1 AND lifted_at IS NULL AND valid_to > $2
            RETURNING {OverrideColumns}
            """,
            id, now, by))
        {
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

    /// <summary>Regions with an override that may have started, ended or been lifted within the last day.</summary>
    public async Task<IReadOnlyList<string>> RegionsWithRecentOverridesAsync(DateTimeOffset now)
    {
        var regions = new List<string>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, "SELECT DISTINCT region FROM tariff_overrides WHERE valid_to > $1 - interval '1 day'", now);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            regions.Add(reader.GetString(0));
        return regions;
    }

    /// <summary>A transaction over the tariff tables; nothing is stored unless it is committed.</summary>
    public Task<TariffTransaction> BeginAsync() => StoreTransaction.BeginAsync(db, (connection, tx) => new TariffTransaction(connection, tx));

    internal static async Task<CachedTariff?> ReadNewestAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string region)
    {
        await using var command = Db.Command(connection, tx, NewestSql, region);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new CachedTariff(reader.GetGuid(0), region, reader.GetDecimal(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3))
            : null;
    }

    private static TariffUpdateMessage ReadUpdate(NpgsqlDataReader reader) => new()
    {
        TariffId = reader.GetGuid(0),
        Region = reader.GetString(1),
        OldPrice = reader.Get<decimal?>("old_price"),
        NewPrice = reader.GetDecimal(3),
        EffectiveFrom = reader.GetFieldValue<DateTimeOffset>(4),
        Reason = reader.GetString(5),
        TriggeredBy = reader.GetString(6),
        OverrideId = reader.Get<Guid?>("override_id"),
        LoadPercent = reader.Get<double?>("load_percent"),
        SourceWindowStart = reader.Get<DateTimeOffset?>("source_window_start"),
        SourceRevision = reader.Get<int?>("source_revision"),
    };

    private static NpgsqlParameter Numeric(decimal? value) => Db.Typed(value, NpgsqlDbType.Numeric);
}

/// <summary>The TariffManager's writes of one decision, in one transaction with the region's progress row.</summary>
public sealed class TariffTransaction(NpgsqlConnection connection, NpgsqlTransaction tx) : StoreTransaction(connection, tx)
{
    /// <summary>The region's progress row, locked for this transaction (created empty when missing).</summary>
    public async Task<TariffRegionState> LockRegionAsync(string region)
    {
        await ExecuteAsync("INSERT INTO tariff_region_state (region) VALUES ($1) ON CONFLICT DO NOTHING", region);
        await using var command = Command(
            "SELECT last_window_start, last_revision, load_percent FROM tariff_region_state WHERE region = $1 FOR UPDATE", region);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new TariffRegionState(reader.Get<DateTimeOffset?>("last_window_start"), reader.Get<int?>("last_revision") ?? 0,
            reader.Get<double?>("load_percent"));
    }

    public Task SaveRegionAsync(string region, TariffRegionState state) =>
        ExecuteAsync(
            "UPDATE tariff_region_state SET last_window_start = $2, last_revision = $3, load_percent = $4, updated_at = now() WHERE region = $1",
            region, state.WindowStart, state.Revision, state.LoadPercent);

    /// <summary>The region's base rate; <paramref name="defaultBase"/> is written as its base row on first use.</summary>
    public async Task<decimal> BasePriceAsync(string region, decimal defaultBase, DateTimeOffset now)
    {
        await using (var command = Command(
            "SELECT price_per_kwh FROM tariffs WHERE region = $1 AND reason = 'base' ORDER BY seq DESC LIMIT 1", region))
        {
            if (await command.ExecuteScalarAsync() is decimal price) return price;
        }

        await ExecuteAsync("""
            INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, published_at)
            VALUES ($1, $2, $3, $4, 'base', 'system', $4)
            """, Guid.NewGuid(), region, defaultBase, now);
        return defaultBase;
    }

    public Task<CachedTariff?> NewestAsync(string region) => TariffRecords.ReadNewestAsync(Connection, Transaction, region);

    /// <summary>The override in force at <paramref name="now"/>: the latest to start wins.</summary>
    public async Task<ActiveOverride?> ActiveOverrideAsync(string region, DateTimeOffset now)
    {
        await using var command = Command("""
            SELECT override_id, price_per_kwh, percentage, created_by FROM tariff_overrides
            WHERE region = $1 AND lifted_at IS NULL AND valid_from <= $2 AND valid_to > $2
            ORDER BY valid_from DESC, created_at DESC, override_id LIMIT 1
            """, region, now);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? new ActiveOverride(reader.GetGuid(0), reader.Get<decimal?>("price_per_kwh"), reader.Get<decimal?>("percentage"), reader.GetString(3))
            : null;
    }

    /// <summary>An override from the tariff_overrides topic; one already stored (a redelivery) is left as it is.</summary>
    public Task AddOverrideAsync(TariffOverride o) =>
        ExecuteAsync("""
            INSERT INTO tariff_overrides (override_id, region, price_per_kwh, percentage, valid_from, valid_to, reason, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (override_id) DO NOTHING
            """, o.OverrideId, o.Region, o.PricePerKwh, o.Percentage, o.ValidFrom, o.ValidTo, o.Reason, o.CreatedBy);

    public Task LiftOverrideAsync(Guid overrideId, string by, DateTimeOffset at) =>
        ExecuteAsync("UPDATE tariff_overrides SET lifted_at = $2, lifted_by = $3 WHERE override_id = $1 AND lifted_at IS NULL",
            overrideId, at, by);

    /// <summary>A new price in force: the tariffs row, which is also the outbox row of its tariff_updates message.</summary>
    public Task InsertPriceAsync(CachedTariff row, PriceChange change, string triggeredBy, (DateTimeOffset Start, int Revision)? window) =>
        ExecuteAsync("""
            INSERT INTO tariffs (tariff_id, region, price_per_kwh, old_price, effective_from, reason, triggered_by,
                                 source_window_start, source_revision, load_percent, override_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, row.TariffId, row.Region, change.PricePerKwh, change.OldPrice, row.EffectiveFrom, row.Reason, triggeredBy,
            window?.Start, window?.Revision, change.LoadPercent, change.Override?.OverrideId);

}
