using SmartGrid.Domain.Grid;

namespace SmartGrid.Gateway.Grid;

/// <summary>The overview of every region the caller operates.</summary>
public sealed record RegionOverviewList(IReadOnlyList<RegionSummary> Items);

/// <summary>
/// One page of a region's load windows; like a meter's windows it pages on time: <c>next_from</c>
/// is the <c>from</c> of the next page (null on the last).
/// </summary>
public sealed record RegionLoadPage(
    string Region, string Resolution, DateTimeOffset From, DateTimeOffset To, int Limit, IReadOnlyList<RegionalAggregate> Items, DateTimeOffset? NextFrom);
