using SmartGrid.Gateway.Http;
using Npgsql;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Tariffs;
using SmartGrid.Services;
using SmartGrid.Services.Hosting;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Grid;

/// <summary>A region's newest 1-minute load window.</summary>
public sealed record RegionLoadNow(DateTimeOffset WindowStart, double LoadPercentage, double TotalPowerKw, double CapacityKw, int MeterCount);

/// <summary>What an operator's grid overview shows per region.</summary>
public sealed record RegionSummary(
    string Region, RegionLoadNow? Load, decimal? PricePerKwh, string? PriceReason, DateTimeOffset? PriceEffectiveFrom, long OpenAlerts,
    string AlertCountSource);

/// <summary>
/// The grid overview: load from regional_aggregates_1m, price in force from the tariff cache
/// (<see cref="TariffStore"/>), open alert counts from Redis alerts:count:{region} (the
/// AlertManager keeps it) or, on a miss, counted in alerts.
/// </summary>
public sealed class RegionOverview(NpgsqlDataSource db, RedisGuard redis, GridServicesOptions services, TariffStore tariffs,
    AlertStore alerts, ILogger<RegionOverview> log)
{
    /// <summary>Older windows are not "current": a region that reported nothing for a day shows no load.</summary>
    private static readonly TimeSpan CurrentHorizon = TimeSpan.FromDays(1);

    public async Task<IReadOnlyList<RegionSummary>> SummarizeAsync(IReadOnlyList<string> regions, DateTimeOffset now, CancellationToken ct)
    {
        var loads = await LoadsAsync(regions, now, ct);
        var counts = await AlertCountsAsync(regions, ct);
        var summaries = new List<RegionSummary>(regions.Count);
        foreach (var region in regions)
        {
            var price = await tariffs.CurrentAsync(region, ct);
            summaries.Add(new RegionSummary(region, loads.GetValueOrDefault(region), price?.Tariff.PricePerKwh, price?.Tariff.Reason,
                price?.Tariff.EffectiveFrom, counts[region].Count, counts[region].Source));
        }
        return summaries;
    }

    private async Task<Dictionary<string, RegionLoadNow>> LoadsAsync(IReadOnlyList<string> regions, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            """
            SELECT DISTINCT ON (region) region, window_start, load_percent, total_power_kw, capacity_kw, meter_count
            FROM regional_aggregates_1m WHERE region = ANY ($1) AND window_start >= $2
            ORDER BY region, window_start DESC
            """);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = regions.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - CurrentHorizon });
        var loads = new Dictionary<string, RegionLoadNow>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            loads[r.GetString(0)] = new RegionLoadNow(r.GetFieldValue<DateTimeOffset>(1), r.GetDouble(2), r.GetDouble(3), r.GetDouble(4), r.GetInt32(5));
        return loads;
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
            log.LogWarning(e, "Alert counts not read from Redis; counting in PostgreSQL");
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
