using System.Text.Json.Serialization;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Grid;

public static class RegionalLoad
{
    /// <summary>
    /// Load in percent of capacity (ARCHITECTURE: regional power / configured regional
    /// capacity). Not capped at 100: an overloaded region reports e.g. 112.5.
    /// </summary>
    public static double LoadPercent(double totalAvgPowerKw, double capacityKw)
    {
        if (!double.IsFinite(capacityKw) || capacityKw <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityKw), capacityKw, "capacity must be a positive number of kW");
        }

        if (!double.IsFinite(totalAvgPowerKw))
        {
            throw new ArgumentOutOfRangeException(nameof(totalAvgPowerKw), totalAvgPowerKw, "power must be a finite number");
        }

        return totalAvgPowerKw * 100.0 / capacityKw;
    }
}

/// <summary>
/// A region's load over one window: a row of regional_aggregates_15m and a message on the
/// regional_aggregates topic (1-minute ones feed overload detection).
/// </summary>
public sealed record RegionalAggregate
{
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("window_size")] public required WindowSize Size { get; init; }
    [JsonPropertyName("window_start")] public required DateTimeOffset WindowStart { get; init; }
    [JsonPropertyName("window_end")] public DateTimeOffset WindowEnd => WindowStart + Size.Duration();

    /// <summary>Meters that reported in the window.</summary>
    [JsonPropertyName("meter_count")] public required int MeterCount { get; init; }

    /// <summary>
    /// Sum over meters of each meter's average power in the window: the region's average
    /// draw. Summing readings instead would weigh a meter by how often it happens to report.
    /// </summary>
    [JsonPropertyName("total_power_kw")] public required double TotalPowerKw { get; init; }

    /// <summary>Average power per reporting meter; 0 when no meter reported.</summary>
    [JsonPropertyName("avg_power_kw")] public double AvgPowerKw => MeterCount == 0 ? 0 : TotalPowerKw / MeterCount;

    [JsonPropertyName("energy_kwh_sum")] public required double EnergyKwhSum { get; init; }
    [JsonPropertyName("reading_count")] public required int ReadingCount { get; init; }
    [JsonPropertyName("capacity_kw")] public required double CapacityKw { get; init; }

    /// <summary>The seed's load_percentage: <see cref="TotalPowerKw"/> / <see cref="CapacityKw"/> × 100.</summary>
    [JsonPropertyName("load_percentage")] public required double LoadPercent { get; init; }

    /// <summary>
    /// The regional aggregate of the meters' windows of one size and start. Each meter may
    /// appear once: when a meter's window is updated (a late reading), pass its latest
    /// version only, or it would be counted twice.
    /// </summary>
    public static RegionalAggregate From(
        string region, WindowSize size, DateTimeOffset windowStart, double capacityKw, IEnumerable<WindowAggregate> meterWindows)
    {
        ArgumentException.ThrowIfNullOrEmpty(region);
        if (!Window.IsAligned(windowStart, size))
        {
            throw new ArgumentException($"{windowStart:O} is not the start of a {size.ToWireName()} window", nameof(windowStart));
        }

        var meters = new HashSet<string>(StringComparer.Ordinal);
        double totalPower = 0;
        double energy = 0;
        int readings = 0;
        foreach (WindowAggregate window in meterWindows)
        {
            if (window.Size != size || window.WindowStart != windowStart)
            {
                throw new ArgumentException(
                    $"window {window.Size.ToWireName()} at {window.WindowStart:O} of {window.MeterId} is not the {size.ToWireName()} window at {windowStart:O}",
                    nameof(meterWindows));
            }

            if (window.IsEmpty)
            {
                continue;
            }

            if (!meters.Add(window.MeterId))
            {
                throw new ArgumentException($"meter {window.MeterId} appears twice", nameof(meterWindows));
            }

            totalPower += window.PowerKwAvg;
            energy += window.EnergyKwhSum;
            readings += window.ReadingCount;
        }

        return new RegionalAggregate
        {
            Region = region,
            Size = size,
            WindowStart = windowStart.ToUniversalTime(),
            MeterCount = meters.Count,
            TotalPowerKw = totalPower,
            EnergyKwhSum = energy,
            ReadingCount = readings,
            CapacityKw = capacityKw,
            LoadPercent = RegionalLoad.LoadPercent(totalPower, capacityKw),
        };
    }
}
