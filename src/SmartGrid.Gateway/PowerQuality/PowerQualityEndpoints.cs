using SmartGrid.Domain.Grid;
using SmartGrid.Domain.PowerQuality;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Grid;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;
using SmartGrid.Storage.Meters;

namespace SmartGrid.Gateway.PowerQuality;

/// <summary>
/// <c>/api/v1/power-quality</c>: EN 50160 / ANSI C84.1 summaries of the 10-minute voltage windows and
/// the sags, swells and interruptions, per meter and per grid node (a region, feeder or transformer;
/// a meter counts under a node only while it was placed there). A meter is read by an OPERATOR of its region, an ADMIN, or
/// the USER it is assigned to; a node by an OPERATOR of it or an ADMIN.
/// </summary>
internal static class PowerQualityEndpoints
{
    /// <summary>A node's answer lists at most this many events (the counts cover all).</summary>
    private const int MaxNodeEvents = 1_000;

    public static void Map(RouteGroupBuilder api)
    {
        var pq = api.MapSignedInGroup("/power-quality", "power-quality");
        pq.MapGet("/meters/{meterId}", MeterAsync).WithName("power-quality.meter").Produces<MeterPowerQuality>()
            .OperatedOnly()
            .WithSummary("A meter's 10-minute voltage windows in [from, to): shares within ±10 % and ±5 % of nominal, EN 50160 compliance, and its voltage events")
            .TimeRange("7 days");
        pq.MapGet("/nodes/{nodeId}", NodeAsync).WithName("power-quality.node").Produces<NodePowerQuality>()
            .OperatedOnly()
            .WithSummary("The same summary over every meter of a node (a region, feeder or transformer), worst meters first")
            .TimeRange("7 days").Query("limit", "How many of the worst meters to list, 1 to 1000 (default 100)");
    }

    private static readonly TimeSpan DefaultSpan = TimeSpan.FromDays(7);

    private static async Task<IResult> MeterAsync(string meterId, HttpContext context, GatewayOptions options, MeterRegistry registry,
        MeterDirectory directory, GatewayRegions regions, AggregateQueries queries, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        if (!Identifiers.IsMeterId(meterId))
            query.Error("meterId", Identifiers.MeterIdRule);
        var (from, to) = query.Range(time.GetUtcNow(), DefaultSpan, options.MaxQueryRange);
        if (query.HasErrors)
            return query.Problem();
        var ct = context.RequestAborted;
        var region = await registry.GetRegionAsync(meterId, ct);
        var user = CurrentUser.From(context.User);
        // A USER's question about a meter that is not theirs answers like one that does not exist.
        if (region is null || user.Role == Roles.User && !(await directory.MetersOfAsync(user.Id, ct)).Contains(meterId, StringComparer.Ordinal))
            return Problems.NotFound("Meter not found", $"No meter '{meterId}' is registered to you.");
        if (user.Role != Roles.User && !user.MayOperate(region))
            return Problems.Forbidden($"Meter '{meterId}' is in region '{region}', which you do not operate.");

        var nominal = regions.NominalVoltage(region);
        var windows = await queries.GetVoltageWindowsAsync(meterId, null, from, to, ct);
        var events = await queries.GetVoltageEventsAsync(meterId, null, from, to, ct);
        var c = VoltageCompliance.Of(windows.Select(w => w.Mean), nominal);
        return GatewayJson.Ok(new MeterPowerQuality(meterId, region, nominal, from, to, c.Windows, c.WithinBandShare, c.RangeAShare, c.Compliant,
            c.LowestMean, c.HighestMean, events.Select(VoltageEventView.Of).ToArray(),
            windows.Select(w => new VoltageWindowView(w.WindowStart, w.WindowStart + VoltageWindow.Length, w.SampleCount, w.Mean, w.Min, w.Max)).ToArray()));
    }

    private static async Task<IResult> NodeAsync(string nodeId, HttpContext context, GatewayOptions options, GatewayRegions regions,
        TopologyStore topology, AggregateQueries queries, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var (from, to) = query.Range(time.GetUtcNow(), DefaultSpan, options.MaxQueryRange);
        var limit = query.Int("limit", options.DefaultPageSize, 1, options.MaxPageSize);
        return await GridNodes.HandleOperatedAsync(nodeId, query, context, topology, async node =>
        {
            var ct = context.RequestAborted;
            var nominal = regions.NominalVoltage(node.Region);
            var windows = await queries.GetVoltageWindowsAsync(node, from, to, ct);
            var events = await queries.GetVoltageEventsAsync(node, from, to, ct);
            return GatewayJson.Ok(NodePowerQuality.Of(node, nominal, from, to, windows, events, limit, MaxNodeEvents));
        });
    }
}
