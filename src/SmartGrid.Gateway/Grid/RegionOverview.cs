using SmartGrid.Gateway.Http;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Tariffs;
using SmartGrid.Storage;
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
public sealed class RegionOverview(NpgsqlDataSource db, RedisGuard redis, GridServicesOptions services, TariffStore tariffs,
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
        await using var cmd = db.CreateCommand(
            """
            SELECT DISTINCT ON (a.region) a.region, a.window_start, a.load_percent, a.total_power_kw, a.capacity_kw, a.meter_count
            FROM regional_aggregates_1m a JOIN unnest($1::text[], $2::double precision[]) AS m (region, min_meters) ON m.region = a.region
            WHERE a.window_start >= $3 AND a.meter_count >= m.min_meters
            ORDER BY a.region, a.window_start DESC
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = regions.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<double[]> { TypedValue = regions.Select(r => share * expected.GetValueOrDefault(r)).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - CurrentHorizon });
        var loads = new Dictionary<string, RegionLoadNow>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var region = r.GetString(0);
            var reported = r.GetInt32(5);
            var c = WindowCompleteness.Of(reported, expected.GetValueOrDefault(region), options.CompleteWindowShare);
            loads[region] = new RegionLoadNow(r.GetFieldValue<DateTimeOffset>(1), r.GetDouble(2), r.GetDouble(3), r.GetDouble(4), reported,
                c.MetersReported, c.MetersExpected, c.Completeness, c.Complete);
        }
        return loads;
    }

    private async Task<Dictionary<Guid, PriceBasis>> PriceBasesAsync(Guid[] tariffIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "SELECT tariff_id, reason, source_window_start, load_percent, override_id FROM tariffs WHERE tariff_id = ANY ($1)");
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = tariffIds });
        var bases = new Dictionary<Guid, PriceBasis>();
        var tiers = services.Tariffs.Pricing;
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            DateTimeOffset? window = r.IsDBNull(2) ? null : r.GetFieldValue<DateTimeOffset>(2);
            double? load = r.IsDBNull(3) ? null : r.GetDouble(3);
            // The tier is not stored: it is the one the configured tiers give the stored load.
            bases[r.GetGuid(0)] = new PriceBasis(r.GetString(1), window, window is null ? null : "15m", load,
                load is { } l && !double.IsNaN(l) ? tiers.TierFor(l).Name : null, r.IsDBNull(4) ? null : r.GetGuid(4));
        }
        return bases;
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
