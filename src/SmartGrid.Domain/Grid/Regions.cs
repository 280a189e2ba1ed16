namespace SmartGrid.Domain.Grid;

/// <summary>A grid region and the capacity its load percentage is measured against.</summary>
public sealed record RegionSpec(string Name, double CapacityKw);

public static class Regions
{
    /// <summary>Used when a reading names no region and its meter has none registered.</summary>
    public const string Unassigned = "Unassigned";

    /// <summary>The default four regions of the simulator and the development setup.</summary>
    public static readonly IReadOnlyList<RegionSpec> Defaults =
    [
        new("Mumbai-Central", 4_000),
        new("Mumbai-North", 3_500),
        new("Pune-West", 3_000),
        new("Nashik", 2_500),
    ];
}
