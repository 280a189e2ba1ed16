using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Reliability;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Reliability;

/// <summary>One customer interruption; <c>end</c> null while it lasts, <c>sustained</c> null while it may still become so.</summary>
public sealed record InterruptionView(string MeterId, DateTimeOffset Start, DateTimeOffset? End, string StartedBy, double DurationMinutes, bool? Sustained)
{
    public static InterruptionView Of(CustomerInterruption i, DateTimeOffset asOf) => new(i.MeterId, i.Start, i.End,
        CustomerInterruption.WireName(i.StartedBy), Math.Round(i.Duration(asOf).TotalMinutes, 3),
        i.IsSustained(asOf) ? true : i.End is null ? null : false);
}

/// <summary>
/// IEEE 1366 indices of a node over [from, to), from its customer interruptions that start in the period
/// (an open one counts up to the period's end, or now when that is earlier).
/// </summary>
public sealed record NodeReliability(
    string NodeId, string Level, DateTimeOffset From, DateTimeOffset To, int CustomersServed,
    double? Saifi, double? SaidiMinutes, double? CaidiMinutes, double? Maifi,
    int SustainedInterruptions, int MomentaryInterruptions, double CustomerMinutesInterrupted,
    IReadOnlyList<InterruptionView> Interruptions, bool InterruptionsTruncated);

/// <summary>
/// <c>/api/v1/reliability</c>: SAIFI, SAIDI, CAIDI and MAIFI (IEEE 1366) per region and per grid node, from
/// customer_interruptions, which the meters decide exactly once, and from the meters silent now whose
/// interruption no reading has shown yet. Until the topology exists a node is a region (its id the
/// region's name). An OPERATOR reads the regions they operate, an ADMIN all.
/// </summary>
internal static class ReliabilityEndpoints
{
    /// <summary>An answer lists at most this many interruptions (the indices cover all).</summary>
    private const int MaxInterruptions = 1_000;

    private static readonly TimeSpan DefaultSpan = TimeSpan.FromDays(30);

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/reliability").WithTags("reliability").RequireAuthorization().AddEndpointFilter<RateLimitFilter>();
        group.MapGet("/regions/{region}", (string region, HttpContext context, GatewayOptions options, GatewayRegions regions,
                AggregateQueries queries, TimeProvider time) => AnswerAsync(region, "region", context, options, regions, queries, time))
            .WithName("reliability.region").Produces<NodeReliability>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("A region's SAIFI, SAIDI, CAIDI and MAIFI over [from, to), with its customer interruptions")
            .TimeRange("30 days");
        group.MapGet("/nodes/{nodeId}", (string nodeId, HttpContext context, GatewayOptions options, GatewayRegions regions,
                AggregateQueries queries, TimeProvider time) => AnswerAsync(nodeId, "nodeId", context, options, regions, queries, time))
            .WithName("reliability.node").Produces<NodeReliability>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("The same for a grid node (a region until the topology exists)")
            .TimeRange("30 days");
    }

    private static async Task<IResult> AnswerAsync(string id, string idField, HttpContext context, GatewayOptions options, GatewayRegions regions,
        AggregateQueries queries, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        if (!Regions.IsValidName(id))
            query.Error(idField, Regions.NameRule);
        var now = time.GetUtcNow();
        var (from, to) = query.Range(now, DefaultSpan, options.MaxQueryRange);
        if (query.HasErrors)
            return query.Problem();
        if (regions.Canonical(id) is not { } region)
            return Problems.NotFound("Node not found", $"No grid node '{id}'; nodes are regions: {string.Join(", ", regions.Names)}.");
        if (!CurrentUser.From(context.User).MayOperate(region))
            return Problems.Forbidden($"You do not operate region '{region}'.");

        var ct = context.RequestAborted;
        // Nothing has happened after now: an open interruption lasts up to now, not to a later end of the period.
        var asOf = to > now && now > from ? now : to;
        var stored = await queries.GetCustomerInterruptionsAsync(region, from, to, ct);
        var served = await queries.CountCustomersServedAsync(region, from, to, ct);
        var interruptions = stored.Concat(await SilentNowAsync(queries, region, from, to, now, ct)).OrderBy(i => i.Start).ThenBy(i => i.MeterId, StringComparer.Ordinal).ToList();
        var indices = ReliabilityIndices.Of(interruptions, served, from, asOf);
        return GatewayJson.Ok(new NodeReliability(region, "region", from, to, served, indices.Saifi, indices.SaidiMinutes, indices.CaidiMinutes, indices.Maifi,
            indices.Sustained, indices.Momentary, indices.SustainedMinutes,
            interruptions.Take(MaxInterruptions).Select(i => InterruptionView.Of(i, asOf)).ToArray(), interruptions.Count > MaxInterruptions));
    }

    /// <summary>
    /// The meters that fell silent and have not reported since: their interruption started one reporting interval after
    /// their last reading, and no reading has yet told a meter so (it is stored when the meter reports again, with the same start).
    /// </summary>
    private static async Task<IEnumerable<CustomerInterruption>> SilentNowAsync(AggregateQueries queries, string region,
        DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, CancellationToken ct)
    {
        if (to <= from || from >= now) return [];
        var last = await queries.GetLastReadingsAsync(region, ct);
        return last
            .Select(m => (m.MeterId, Start: CustomerInterruptions.SilenceStart(m.Newest, m.Interval, now)))
            .Where(m => m.Start is { } s && s >= from && s < to)
            .Select(m => new CustomerInterruption(m.MeterId, m.Start!.Value, null, InterruptionStart.Silence));
    }
}
