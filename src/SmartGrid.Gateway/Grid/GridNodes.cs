using SmartGrid.Domain.Grid;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Grid;

/// <summary>How every <c>/nodes/{id}</c> route finds its node: a region, feeder or transformer by id in any case.</summary>
internal static class GridNodes
{
    /// <summary>The node, or null when there is none (an id no node could have is not looked up).</summary>
    public static async Task<GridNode?> FindAsync(string id, TopologyStore topology, CancellationToken ct) =>
        Topology.IsValidId(id) || Regions.IsValidName(id) ? await topology.FindNodeAsync(id, ct) : null;

    /// <summary>
    /// The opening of every <c>/nodes/{id}</c> route: the query's problems first, then the node, handed to
    /// <paramref name="handle"/> when the caller operates its region (else the 404 or 403).
    /// </summary>
    public static async Task<IResult> HandleOperatedAsync(string id, QueryReader query, HttpContext context, TopologyStore topology,
        Func<GridNode, Task<IResult>> handle)
    {
        if (query.HasErrors)
            return query.Problem();
        if (await FindAsync(id, topology, context.RequestAborted) is not { } node)
            return NotFound(id);
        return CurrentUser.From(context.User).MayOperate(node.Region)
            ? await handle(node)
            : Problems.Forbidden($"{node.Kind.Name()} '{node.Id}' is in region '{node.Region}', which you do not operate.");
    }

    public static IResult NotFound(string id) =>
        Problems.NotFound("Node not found", $"No grid node '{(id.Length <= 64 ? id : id[..64] + "…")}' (a region, feeder or transformer).");
}
