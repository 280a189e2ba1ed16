using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain.Grid;
using SmartGrid.Services.Common;
using SmartGrid.Storage;
using SmartGrid.Storage.Tariffs;
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

    private readonly TariffSettings _settings;
    private readonly TariffRecords _records;
    private readonly IDatabase _redis;
    private readonly RedisKeyspace _keys;
    private readonly TariffPolicy _policy;
    private readonly OutboxPublisher _outbox;
    private readonly TimeProvider _time;

    public TariffManager(TariffSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider time)
        : base(settings.Consumer, settings.OverrideCheckInterval,
            TopicReader.Of<RegionalAggregateMessage>(settings.RegionalTopic, MessageValidation.Validated),
            TopicReader.Of<TariffOverrideMessage>(settings.OverridesTopic, MessageValidation.Validated))
    {
        _settings = settings;
        _records = new TariffRecords(db);
        _keys = keys;
        _redis = redis.GetDatabase(keys.Database);
        _policy = new TariffPolicy(settings.Pricing, settings.PublishThresholdPercent);
        _outbox = new OutboxPublisher(db, producer);
        _time = time;
    }

    public static Props Props(TariffSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider? time = null) =>
        Akka.Actor.Props.Create(() => new TariffManager(settings, db, redis, keys, producer, time ?? TimeProvider.System));

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
        foreach (var region in await _records.RegionsWithRecentOverridesAsync(now))
            await RepriceAsync(region, now);
        await PublishPendingAsync();
    }

    private async Task<RecordHandled> ApplyLoadAsync(RegionalAggregateMessage message)
    {
        var windowStart = message.WindowStart.ToUniversalTime();
        var windowEnd = message.WindowEnd > message.WindowStart ? message.WindowEnd.ToUniversalTime() : windowStart.AddMinutes(15);
        await using var tx = await _records.BeginAsync();
        var state = await tx.LockRegionAsync(message.Region);
        if (state.HasApplied(windowStart, message.Revision))
            return RecordHandled.Duplicate;

        state = state.Apply(windowStart, message.Revision, message.LoadPercentage);
        await tx.SaveRegionAsync(message.Region, state);
        var change = await DecideAsync(tx, message.Region, state, _time.GetUtcNow(), windowEnd, (windowStart, message.Revision));
        await tx.CommitAsync();
        await AfterCommitAsync(change);
        return change is null ? new RecordHandled("unchanged") : new RecordHandled("changed");
    }

    private async Task<RecordHandled> ApplyOverrideAsync(TariffOverrideMessage message)
    {
        var price = message.PricePerKwh ?? message.Price;
        var now = _time.GetUtcNow();
        var id = message.OverrideId ?? Db.ContentId(
            $"{message.Region}|{price}|{message.Percentage}|{message.ValidFrom.UtcTicks}|{message.ValidTo.UtcTicks}|{message.CreatedBy}|{message.Reason}");
        await using var tx = await _records.BeginAsync();
        var state = await tx.LockRegionAsync(message.Region);
        if (message.IsLift)
            await tx.LiftOverrideAsync(id, message.CreatedBy, now);
        else
            await tx.AddOverrideAsync(new TariffOverride(id, message.Region, price, message.Percentage, message.ValidFrom, message.ValidTo,
                message.Reason, message.CreatedBy, now, null, null));

        var change = await DecideAsync(tx, message.Region, state, now, now, null);
        await tx.CommitAsync();
        await AfterCommitAsync(change);
        return change is null ? new RecordHandled("unchanged") : new RecordHandled("changed");
    }

    private async Task RepriceAsync(string region, DateTimeOffset now)
    {
        await using var tx = await _records.BeginAsync();
        var state = await tx.LockRegionAsync(region);
        var change = await DecideAsync(tx, region, state, now, now, null);
        await tx.CommitAsync();
        if (change is null) return;
        ServicesMetrics.TariffUpdates.Add(1, new("region", change.Region), new("reason", change.Reason));
        await _redis.StringSetAsync(_keys.Tariff(region), WireJson.Serialize(change), _settings.CacheTtl);
    }

    /// <summary>
    /// Prices the region (<see cref="TariffRegionState.Decide"/>: overrides active at <paramref name="now"/> win over the
    /// load tier) and writes the tariffs row when the price in force is to change.
    /// </summary>
    private async Task<CachedTariff?> DecideAsync(TariffTransaction tx, string region, TariffRegionState state,
        DateTimeOffset now, DateTimeOffset effectiveFrom, (DateTimeOffset Start, int Revision)? window)
    {
        var basePrice = await tx.BasePriceAsync(region, _settings.DefaultBasePricePerKwh, now);
        var current = await CurrentPriceAsync(tx, region);
        if (state.Decide(_policy, basePrice, current, await tx.ActiveOverrideAsync(region, now)) is not { } change)
            return null;

        // Invalidate first: if the process dies after the commit, readers fall back to PostgreSQL.
        await _redis.KeyDeleteAsync(_keys.Tariff(region));
        var reason = change.Override is null ? TariffReasons.LoadBased : TariffReasons.AdminOverride;
        var row = new CachedTariff(Guid.NewGuid(), region, change.PricePerKwh, effectiveFrom.ToUniversalTime(), reason);
        await tx.InsertPriceAsync(row, change, change.Override?.CreatedBy ?? TariffReasons.System, window);
        return row;
    }

    /// <summary>The price in force: Redis tariff:{region}, else the newest tariffs row (then cached).</summary>
    private async Task<decimal?> CurrentPriceAsync(TariffTransaction tx, string region)
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

        if (await tx.NewestAsync(region) is not { } row) return null;
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
    private Task PublishPendingAsync() => _outbox.PublishPendingAsync(_settings.TariffUpdatesTopic, TariffRecords.UpdatesOutbox);
}
