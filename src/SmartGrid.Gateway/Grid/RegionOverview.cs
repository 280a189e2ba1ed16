using SmartGrid.Gateway.Http;
using SmartGrid.Contracts;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Tariffs;
using SmartGrid.Storage;
using SmartGrid.Storage.Grid;
using SmartGrid.Storage.Tariffs;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Grid;

/// <summary>One of a region's 1-minute load windows and how many of its meters it heard from.</summary>
public sealed record RegionLoadNow(DateTimeOffset WindowStart, double LoadPercentage, double TotalPowerKw, double CapacityKw, int MeterCount,
    int MetersReported, int MetersExpected, double? Completeness, bool Complete);

/// <summary>
/// What an operator's grid overview shows per region. <c>load</c> is the current load: the newest
/// complete 1-minute window. <c>newest_partial</c> is a newer window still short of meters (filling,
/// or many meters silent), shown marked so nobody reads it as the load; null when the newest is complete.
/// </summary>
public sealed record RegionSummary(
    string Region, RegionLoadNow? Load, RegionLoadNow? NewestPartial, decimal? PricePerKwh, string? PriceReason, DateTimeOffset? PriceEffectiveFrom,
    PriceBasis? PriceBasis, long OpenAlerts, string AlertCountSource);

/// <summary>
/// What set the price in force, from its tariffs row: a load-based price names the 15-minute window
/// and the load it was priced on and the tier that load falls in; an override names the override.
/// </summary>
public sealed record PriceBasis(string Reason, DateTimeOffset? WindowStart, string? WindowSize, double? LoadPercentage, string? Tier, Guid? OverrideId);

/// <summary>
/// The grid overview: load from regional_aggregates_1m judged complete against the meters registered
/// per region (<see cref="GatewayOptions.CompleteWindowShare"/>), price in force from the tariff cache
/// (<see cref="TariffStore"/>), open alert counts from Redis alerts:count:{region} (the
/// AlertManager keeps it) or, on a miss, counted in alerts.
/// </summary>
public sealed class RegionOverview(RegionLoads regionLoads, TariffRecords records, RedisGuard redis, GridServicesOptions services, TariffStore tariffs,
    AlertStore alerts, MeterRegistry registry, GatewayOptions options, ILogger<RegionOverview> log)
{
    /// <summary>Older windows are not "current": a region that reported nothing for a day shows no load.</summary>
    private static readonly TimeSpan CurrentHorizon = TimeSpan.FromDays(1);

    public async Task<IReadOnlyList<RegionSummary>> SummarizeAsync(IReadOnlyList<string> regions, DateTimeOffset now, CancellationToken ct)
    {
        var expected = await registry.CountByRegionAsync(regions, ct);
        var newest = await LoadsAsync(regions, expected, 0, now, ct);
        var complete = await LoadsAsync(regions, expected, options.CompleteWindowShare, now, ct);
        var counts = await AlertCountsAsync(regions, ct);
        var prices = new Dictionary<string, TariffInForce?>(StringComparer.Ordinal);
        foreach (var region in regions)
            prices[region] = await tariffs.CurrentAsync(region, ct);
        var bases = await PriceBasesAsync(prices.Values.OfType<TariffInForce>().Select(p => p.Tariff.TariffId).ToArray(), ct);
        var summaries = new List<RegionSummary>(regions.Count);
        foreach (var region in regions)
        {
            var price = prices[region];
            var partial = newest.GetValueOrDefault(region) is { Complete: false } p ? p : null;
            summaries.Add(new RegionSummary(region, complete.GetValueOrDefault(region), partial, price?.Tariff.PricePerKwh, price?.Tariff.Reason,
                price?.Tariff.EffectiveFrom, price is null ? null : bases.GetValueOrDefault(price.Tariff.TariffId), counts[region].Count, counts[region].Source));
        }
        return summaries;
    }

    /// <summary>Per region, the newest window that heard from at least <paramref name="share"/> of its expected meters (0: the newest of all).</summary>
    private async Task<Dictionary<string, RegionLoadNow>> LoadsAsync(IReadOnlyList<string> regions, IReadOnlyDictionary<string, int> expected,
        double share, DateTimeOffset now, CancellationToken ct)
    {
        var windows = await regionLoads.NewestAsync(regions, regions.Select(r => share * expected.GetValueOrDefault(r)).ToArray(),
            now - CurrentHorizon, ct);
        var loads = new Dictionary<string, RegionLoadNow>(StringComparer.Ordinal);
        foreach (var w in windows)
        {
            var c = WindowCompleteness.Of(w.MeterCount, expected.GetValueOrDefault(w.Region), options.CompleteWindowShare);
            loads[w.Region] = new RegionLoadNow(w.WindowStart, w.LoadPercentage, w.TotalPowerKw, w.CapacityKw, w.MeterCount,
                c.MetersReported, c.MetersExpected, c.Completeness, c.Complete);
        }
        return loads;
    }

    private async Task<Dictionary<Guid, PriceBasis>> PriceBasesAsync(Guid[] tariffIds, CancellationToken ct)
    {
        var tiers = services.Tariffs.Pricing;
        // The tier is not stored: it is the one the configured tiers give the stored load.
        return (await records.BasesAsync(tariffIds, ct)).ToDictionary(b => b.TariffId, b => new PriceBasis(b.Reason, b.SourceWindowStart,
            b.SourceWindowStart is null ? null : "15m", b.LoadPercent, b.LoadPercent is { } l && !double.IsNaN(l) ? tiers.TierFor(l).Name : null,
            b.OverrideId));
    }

    private async Task<Dictionary<string, (long Count, string Source)>> AlertCountsAsync(IReadOnlyList<string> regions, CancellationToken ct)
    {
        var counts = new Dictionary<string, (long, string)>(StringComparer.Ordinal);
        try
        {
            var values = await redis.Database(services.Redis.Database)
                .StringGetAsync(regions.Select(r => (RedisKey)services.Redis.AlertCount(r)).ToArray());
            for (var i = 0; i < regions.Count; i++)
            {
                if (!values[i].IsNull && values[i].TryParse(out long count))
                    counts[regions[i]] = (count, "cache");
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            redis.Failed(e);
            log.AlertCountsFromDatabase(e);
        }
        var missing = regions.Where(r => !counts.ContainsKey(r)).ToArray();
        if (missing.Length > 0)
        {
            // Not written back: alerts:count is the AlertManager's key, refreshed on every alert change.
            foreach (var (region, bySeverity) in await alerts.OpenCountsAsync(missing, ct))
                counts[region] = (bySeverity.Values.Sum(), "database");
        }
        return counts;
    }
}
