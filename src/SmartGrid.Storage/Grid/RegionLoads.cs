using Npgsql;

namespace SmartGrid.Storage.Grid;

/// <summary>One of a region's 1-minute load windows as regional_aggregates_1m holds it, with how many meters it heard from.</summary>
public sealed record NewestRegionWindow(string Region, DateTimeOffset WindowStart, double LoadPercentage, double TotalPowerKw, double CapacityKw,
    int MeterCount);

/// <summary>Reads the regions' current load (regional_aggregates_1m) for the grid overview.</summary>
public sealed class RegionLoads(NpgsqlDataSource db)
{
    /// <summary>
    /// Per region (<paramref name="regions"/>[i]), its newest window since <paramref name="since"/> that heard from at least
    /// <paramref name="minMeters"/>[i] meters; a region with none is left out.
    /// </summary>
    public async Task<IReadOnlyList<NewestRegionWindow>> NewestAsync(IReadOnlyList<string> regions, double[] minMeters, DateTimeOffset since,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            """
            SELECT DISTINCT ON (a.region) a.region, a.window_start, a.load_percent, a.total_power_kw, a.capacity_kw, a.meter_count
            FROM regional_aggregates_1m a JOIN unnest($1::text[], $2::double precision[]) AS m (region, min_meters) ON m.region = a.region
            WHERE a.window_start >= $3 AND a.meter_count >= m.min_meters
            ORDER BY a.region, a.window_start DESC
            """, regions.ToArray(), minMeters, since);
        var windows = new List<NewestRegionWindow>(regions.Count);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            windows.Add(new NewestRegionWindow(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1), r.GetDouble(2), r.GetDouble(3), r.GetDouble(4),
                r.GetInt32(5)));
        return windows;
    }
}
