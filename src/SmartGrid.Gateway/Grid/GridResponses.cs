using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Gateway.Grid;

/// <summary>The overview of every region the caller operates.</summary>
public sealed record RegionOverviewList(IReadOnlyList<RegionSummary> Items);

/// <summary>
/// One page of a region's load windows; like a meter's windows it pages on time: <c>next_from</c>
/// is the <c>from</c> of the next page (null on the last).
/// </summary>
public sealed record RegionLoadPage(
    string Region, string Resolution, DateTimeOffset From, DateTimeOffset To, int Limit, IReadOnlyList<RegionLoadWindow> Items, DateTimeOffset? NextFrom);

/// <summary>
/// How much of a region a window heard from: meters that reported into it against the meters
/// registered in the region. A window still filling (or of a region with many meters silent) is
/// partial, and its load is only the part reported so far.
/// </summary>
/// <param name="Completeness">Reported ÷ expected, at most 1; null when the region has no registered meter.</param>
/// <param name="Complete">At least <see cref="GatewayOptions.CompleteWindowShare"/> of the expected meters reported (always, with none expected).</param>
public sealed record WindowCompleteness(int MetersReported, int MetersExpected, double? Completeness, bool Complete)
{
    public static WindowCompleteness Of(int reported, int expected, double completeShare) => expected <= 0
        ? new(reported, 0, null, true)
        : new(reported, expected, Math.Min(1.0, reported / (double)expected), reported >= completeShare * expected);
}

/// <summary>One of a region's load windows with how complete it is.</summary>
public sealed record RegionLoadWindow(
    string Region, string WindowSize, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, int MeterCount, double TotalPowerKw, double AvgPowerKw,
    double EnergyKwhSum, int ReadingCount, double CapacityKw, double LoadPercentage,
    int MetersReported, int MetersExpected, double? Completeness, bool Complete)
{
    public static RegionLoadWindow Of(RegionalAggregate a, int expected, double completeShare)
    {
        var c = WindowCompleteness.Of(a.MeterCount, expected, completeShare);
        return new(a.Region, a.Size.ToWireName(), a.WindowStart, a.WindowEnd, a.MeterCount, a.TotalPowerKw, a.AvgPowerKw, a.EnergyKwhSum, a.ReadingCount,
            a.CapacityKw, a.LoadPercent, c.MetersReported, c.MetersExpected, c.Completeness, c.Complete);
    }
}
