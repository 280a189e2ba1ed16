using SmartGrid.Domain.Grid;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Grid;

/// <summary>How every <c>/nodes/{id}</c> route finds its node: a region, feeder or transformer by id in any case.</summary>
internal static class GridNodes
{
    /// <summary>The node, or null when there is none (an id no node could have is not looked up).</summary>
    public static async Task<GridNode?> FindAsync(string id, TopologyStore topology, CancellationToken ct) =>
        Topology.IsValidId(id) || Regions.IsValidName(id) ? await topology.FindNodeAsync(id, ct) : null;

    public static IResult NotFound(string id) =>
        Problems.NotFound("Node not found", $"No grid node '{(id.Length <= 64 ? id : id[..64] + "…")}' (a region, feeder or transformer).");
}
