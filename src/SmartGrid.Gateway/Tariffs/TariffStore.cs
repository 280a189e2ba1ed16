using System.Text.Json;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage.Tariffs;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Tariffs;

/// <summary>A region's price in force and where the gateway found it (cache = Redis, database = PostgreSQL).</summary>
public sealed record TariffInForce(CachedTariff Tariff, string Source);

/// <summary>
/// The gateway's side of the tariffs: reads the price in force the way the TariffManager keeps it
/// (Redis <see cref="RedisKeyspace.Tariff"/> holding a <see cref="CachedTariff"/>, else the
/// newest tariffs row, then cached). History and admin overrides are <see cref="TariffRecords"/>'. It never
/// decides a price: the TariffManager does, from the overrides table and the tariff_overrides topic.
/// </summary>
public sealed class TariffStore(TariffRecords records, RedisGuard redis, GridServicesOptions services, ILogger<TariffStore> log)
{
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
            log.TariffFromDatabase(e, region);
        }

        if (await records.NewestAsync(region, ct) is not { } tariff)
            return null;
        try
        {
            // Only when absent: the TariffManager may have cached a newer price since our read,
            // and an older one must not overwrite it for a whole TTL.
            await Cache.StringSetAsync(key, WireJson.Serialize(tariff), services.Tariffs.CacheTtl, When.NotExists);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            redis.Failed(e);
            log.TariffNotCached(e, region);
        }
        return new TariffInForce(tariff, "database");
    }
}
