using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Domain.Grid;
using SmartGrid.Services.Common;
using StackExchange.Redis;

namespace SmartGrid.Services.Tariffs;

/// <summary>
/// Owns the regions' prices in force (cluster singleton, role services). From 15-minute regional
/// loads it prices each region by tier on its base rate; active admin overrides win over that.
/// A change of more than the publish threshold against the price in force (Redis tariff:{region},
/// PostgreSQL on a miss) becomes a tariffs row and a tariff_updates message.
/// <para>
/// Exactly-once effect: the newest applied (window_start, revision) per region is stored in
/// tariff_region_state in the same transaction as the tariff row, so a replayed aggregate changes
/// nothing; tariffs doubles as the outbox of tariff_updates (published_at), so a crash between
/// commit and publish only delays the message. The consumer commits offsets after both.
/// </para>
/// </summary>
public sealed class TariffManager : ManagerActor
{
    public const string Name = "tariff-manager";

    /// <summary>Outbox rows sent per round.</summary>
    private const int PublishBatch = 500;

    private readonly TariffSettings _settings;
    private readonly NpgsqlDataSource _db;
    private readonly IDatabase _redis;
    private readonly RedisKeyspace _keys;
    private readonly IProducer<string, string> _producer;
    private readonly TimeProvider _time;

    public TariffManager(TariffSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider time)
        : base(settings.Consumer, settings.OverrideCheckInterval)
    {
        _settings = settings;
        _db = db;
        _keys = keys;
        _redis = redis.GetDatabase(keys.Database);
        _producer = producer;
        _time = time;
    }

    public static Props Props(TariffSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider? time = null) =>
        Akka.Actor.Props.Create(() => new TariffManager(settings, db, redis, keys, producer, time ?? TimeProvider.System));

    protected override object Parse(string topic, string json) =>
        topic == _settings.RegionalTopic ? WireJson.Deserialize<RegionalAggregateMessage>(json).Validated()
        : topic == _settings.OverridesTopic ? WireJson.Deserialize<TariffOverrideMessage>(json).Validated()
        : json;

    protected override async Task<RecordHandled> HandleRecordAsync(ConsumedRecord record, object message) => message switch
    {
        RegionalAggregateMessage { WindowSize: "15m" } load => await ApplyLoadAsync(load),
        TariffOverrideMessage change => await ApplyOverrideAsync(change),
        _ => RecordHandled.Ignored,
    };

    protected override async Task MaintainAsync()
    {
        // Overrides that started, expired or were lifted since: re-price their regions. Deciding
        // is idempotent against the price in force, so looking at a day's worth is harmless.
        var now = _time.GetUtcNow();
        var regions = new List<string>();
        await using (var connection = await _db.OpenConnectionAsync())
        await using (var command = Db.Command(connection, null,
                         "SELECT DISTINCT region FROM tariff_overrides WHERE valid_to > $1 - interval '1 day'", now))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                regions.Add(reader.GetString(0));
        }

        foreach (var region in regions)
            await RepriceAsync(region, now);
        await PublishPendingAsync();
    }

    private async Task<RecordHandled> ApplyLoadAsync(RegionalAggregateMessage message)
    {
        var windowStart = message.WindowStart.ToUniversalTime();
        var windowEnd = message.WindowEnd > message.WindowStart ? message.WindowEnd.ToUniversalTime() : windowStart.AddMinutes(15);
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var state = await LockRegionAsync(connection, tx, message.Region);
        if (state.WindowStart is { } last && (windowStart < last || (windowStart == last && message.Revision <= state.Revision)))
            return RecordHandled.Duplicate;

        await Db.ExecuteAsync(connection, tx,
            "UPDATE tariff_region_state SET last_window_start = $2, last_revision = $3, load_percent = $4, updated_at = now() WHERE region = $1",
            message.Region, windowStart, message.Revision, message.LoadPercentage);
        var change = await DecideAsync(connection, tx, message.Region, message.LoadPercentage, _time.GetUtcNow(), windowEnd,
            (windowStart, message.Revision));
        await tx.CommitAsync();
        await AfterCommitAsync(change);
        return change is null ? new RecordHandled("unchanged") : new RecordHandled("changed");
    }

    private async Task<RecordHandled> ApplyOverrideAsync(TariffOverrideMessage message)
    {
        var lift = message.IsLift;
        var price = message.PricePerKwh ?? message.Price;

        var now = _time.GetUtcNow();
        var id = message.OverrideId ?? Db.ContentId(
            $"{message.Region}|{price}|{message.Percentage}|{message.ValidFrom.UtcTicks}|{message.ValidTo.UtcTicks}|{message.CreatedBy}|{message.Reason}");
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var state = await LockRegionAsync(connection, tx, message.Region);
        if (lift)
        {
            await Db.ExecuteAsync(connection, tx,
                "UPDATE tariff_overrides SET lifted_at = $2, lifted_by = $3 WHERE override_id = $1 AND lifted_at IS NULL",
                id, now, message.CreatedBy);
        }
        else
        {
            await Db.ExecuteAsync(connection, tx, """
                INSERT INTO tariff_overrides (override_id, region, price_per_kwh, percentage, valid_from, valid_to, reason, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (override_id) DO NOTHING
                """, id, message.Region, price, message.Percentage, message.ValidFrom, message.ValidTo, message.Reason, message.CreatedBy);
        }

        var change = await DecideAsync(connection, tx, message.Region, state.LoadPercent, now, now, null);
        await tx.CommitAsync();
        await AfterCommitAsync(change);
        return change is null ? new RecordHandled("unchanged") : new RecordHandled("changed");
    }

    private async Task RepriceAsync(string region, DateTimeOffset now)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var state = await LockRegionAsync(connection, tx, region);
        var change = await DecideAsync(connection, tx, region, state.LoadPercent, now, now, null);
        await tx.CommitAsync();
        if (change is null) return;
        ServicesMetrics.TariffUpdates.Add(1, new("region", change.Region), new("reason", change.Reason));
        await _redis.StringSetAsync(_keys.Tariff(region), WireJson.Serialize(change), _settings.CacheTtl);
    }

    /// <summary>The region's progress row, locked for this transaction (created empty when missing).</summary>
    private static async Task<(DateTimeOffset? WindowStart, int Revision, double? LoadPercent)> LockRegionAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string region)
    {
        await Db.ExecuteAsync(connection, tx, "INSERT INTO tariff_region_state (region) VALUES ($1) ON CONFLICT DO NOTHING", region);
        await using var command = Db.Command(connection, tx,
            "SELECT last_window_start, last_revision, load_percent FROM tariff_region_state WHERE region = $1 FOR UPDATE", region);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.Get<DateTimeOffset?>("last_window_start"), reader.Get<int?>("last_revision") ?? 0, reader.Get<double?>("load_percent"));
    }

    /// <summary>
    /// The price the region should have now, and the tariffs row if it differs enough from the
    /// price in force. Overrides active at <paramref name="now"/> win over the load tier.
    /// </summary>
    private async Task<CachedTariff?> DecideAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string region, double? loadPercent,
        DateTimeOffset now, DateTimeOffset effectiveFrom, (DateTimeOffset Start, int Revision)? window)
    {
        var basePrice = await BasePriceAsync(connection, tx, region, now);
        var current = await CurrentPriceAsync(connection, tx, region);

        decimal desired;
        string reason, triggeredBy;
        Guid? overrideId = null;
        await using (var command = Db.Command(connection, tx, """
                         SELECT override_id, price_per_kwh, percentage, created_by FROM tariff_overrides
                         WHERE region = $1 AND lifted_at IS NULL AND valid_from <= $2 AND valid_to > $2
                         ORDER BY valid_from DESC, created_at DESC, override_id LIMIT 1
                         """, region, now))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            if (await reader.ReadAsync())
            {
                overrideId = reader.GetGuid(0);
                desired = reader.Get<decimal?>("price_per_kwh") ?? basePrice * (1m + reader.GetDecimal(2) / 100m);
                reason = TariffReasons.AdminOverride;
                triggeredBy = reader.GetString(3);
            }
            else
            {
                desired = loadPercent is { } load ? _settings.Tiers.PriceFor(basePrice, load) : basePrice;
                reason = TariffReasons.LoadBased;
                triggeredBy = TariffReasons.System;
            }
        }

        desired = Math.Round(desired, 4, MidpointRounding.AwayFromZero);
        if (!TariffTiers.ShouldPublish(current, desired, _settings.PublishThresholdPercent))
            return null;

        // Invalidate first: if the process dies after the commit, readers fall back to PostgreSQL.
        await _redis.KeyDeleteAsync(_keys.Tariff(region));
        var row = new CachedTariff(Guid.NewGuid(), region, desired, effectiveFrom.ToUniversalTime(), reason);
        await Db.ExecuteAsync(connection, tx, """
            INSERT INTO tariffs (tariff_id, region, price_per_kwh, old_price, effective_from, reason, triggered_by,
                                 source_window_start, source_revision, load_percent, override_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, row.TariffId, region, desired, current, row.EffectiveFrom, reason, triggeredBy,
            window?.Start, window?.Revision, loadPercent, overrideId);
        return row;
    }

    private async Task<decimal> BasePriceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string region, DateTimeOffset now)
    {
        await using (var command = Db.Command(connection, tx,
                         "SELECT price_per_kwh FROM tariffs WHERE region = $1 AND reason = 'base' ORDER BY seq DESC LIMIT 1", region))
        {
            if (await command.ExecuteScalarAsync() is decimal price) return price;
        }

        await Db.ExecuteAsync(connection, tx, """
            INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, published_at)
            VALUES ($1, $2, $3, $4, 'base', 'system', $4)
            """, Guid.NewGuid(), region, _settings.DefaultBasePricePerKwh, now);
        return _settings.DefaultBasePricePerKwh;
    }

    /// <summary>The price in force: Redis tariff:{region}, else the newest tariffs row (then cached).</summary>
    private async Task<decimal?> CurrentPriceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string region)
    {
        var cached = await _redis.StringGetAsync(_keys.Tariff(region));
        if (cached.HasValue)
        {
            try
            {
                return WireJson.Deserialize<CachedTariff>(cached.ToString()).PricePerKwh;
            }
            catch (JsonException)
            {
                // Not ours or an old shape: fall through to the database.
            }
        }

        await using var command = Db.Command(connection, tx, """
            SELECT tariff_id, price_per_kwh, effective_from, reason FROM tariffs WHERE region = $1 ORDER BY seq DESC LIMIT 1
            """, region);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        var row = new CachedTariff(reader.GetGuid(0), region, reader.GetDecimal(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3));
        await _redis.StringSetAsync(_keys.Tariff(region), WireJson.Serialize(row), _settings.CacheTtl);
        return row.PricePerKwh;
    }

    private async Task AfterCommitAsync(CachedTariff? change)
    {
        if (change is not null)
        {
            ServicesMetrics.TariffUpdates.Add(1, new("region", change.Region), new("reason", change.Reason));
            await _redis.StringSetAsync(_keys.Tariff(change.Region), WireJson.Serialize(change), _settings.CacheTtl);
        }
        await PublishPendingAsync();
    }

    /// <summary>Sends every unpublished change to tariff_updates, in order, and marks it published once acknowledged.</summary>
    private async Task PublishPendingAsync()
    {
        while (true)
        {
            var pending = new List<TariffUpdateMessage>();
            await using var connection = await _db.OpenConnectionAsync();
            await using (var command = Db.Command(connection, null, $"""
                             SELECT tariff_id, region, old_price, price_per_kwh, effective_from, reason, triggered_by,
                                    override_id, load_percent, source_window_start, source_revision
                             FROM tariffs WHERE published_at IS NULL AND reason <> 'base' ORDER BY seq LIMIT {PublishBatch}
                             """))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    pending.Add(new TariffUpdateMessage
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
                    });
                }
            }

            if (pending.Count == 0) return;
            // Keyed by region: one partition per region keeps its updates in order.
            await Task.WhenAll(pending.Select(u => _producer.ProduceAsync(_settings.TariffUpdatesTopic,
                new Message<string, string> { Key = u.Region, Value = WireJson.Serialize(u) })));
            await Db.ExecuteAsync(connection, null, "UPDATE tariffs SET published_at = now() WHERE tariff_id = ANY($1)",
                pending.Select(u => u.TariffId).ToArray());
            // A short batch was the last one: no second query per record on the hot path.
            if (pending.Count < PublishBatch) return;
        }
    }
}
