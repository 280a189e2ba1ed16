using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Reliability;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Grid;
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
    IReadOnlyList<InterruptionView> Interruptions, bool InterruptionsTruncated, int PlatformSilencesExcluded);

/// <summary>
/// <c>/api/v1/reliability</c>: SAIFI, SAIDI, CAIDI and MAIFI (IEEE 1366) per region and per grid node (a region, a
/// feeder or a transformer), from customer_interruptions, which the meters decide exactly once, and from the meters
/// silent now whose interruption no reading has shown yet; a silence its peers do not corroborate is the platform's and
/// is left out (<see cref="SilenceEvidence"/>), counted in <c>platform_silences_excluded</c>. A feeder's or transformer's customers are the meters placed
/// under it during the period, each with its interruptions while it was there. An OPERATOR reads the nodes of the
/// regions they operate, an ADMIN all.
/// </summary>
internal static class ReliabilityEndpoints
{
    /// <summary>An answer lists at most this many interruptions (the indices cover all).</summary>
    private const int MaxInterruptions = 1_000;

    private static readonly TimeSpan DefaultSpan = TimeSpan.FromDays(30);

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapSignedInGroup("/reliability", "reliability");
        group.MapGet("/regions/{region}", RegionAsync).WithName("reliability.region").Produces<NodeReliability>()
            .OperatedOnly()
            .WithSummary("A region's SAIFI, SAIDI, CAIDI and MAIFI over [from, to), with its customer interruptions")
            .TimeRange("30 days");
        group.MapGet("/nodes/{nodeId}", NodeAsync).WithName("reliability.node").Produces<NodeReliability>()
            .OperatedOnly()
            .WithSummary("The same for a grid node: a region, a feeder or a transformer (the meters placed under it during the period)")
            .TimeRange("30 days");
    }

    private static async Task<IResult> RegionAsync(string region, HttpContext context, GatewayOptions options, GatewayRegions regions,
        AggregateQueries queries, TimeProvider time)
    {
        var (query, from, to) = Read(region, "region", context, options, time);
        if (query.HasErrors)
            return query.Problem();
        if (regions.Canonical(region) is not { } name)
            return Problems.NotFound("Region not found", $"No region '{region}'; regions: {string.Join(", ", regions.Names)}.");
        if (!CurrentUser.From(context.User).MayOperate(name))
            return Problems.Forbidden($"You do not operate region '{name}'.");
        return await RegionAnswerAsync(name, from, to, queries, time.GetUtcNow(), context.RequestAborted);
    }

    private static async Task<IResult> NodeAsync(string nodeId, HttpContext context, GatewayOptions options, TopologyStore topology,
        AggregateQueries queries, TimeProvider time)
    {
        var (query, from, to) = Read(nodeId, "nodeId", context, options, time);
        return await GridNodes.HandleOperatedAsync(nodeId, query, context, topology, async node =>
        {
            var ct = context.RequestAborted;
            var now = time.GetUtcNow();
            if (node.Kind == GridNodeKind.Region)
                return await RegionAnswerAsync(node.Region, from, to, queries, now, ct);

            var placements = await topology.MetersUnderAsync(node, from, to, ct);
            var meters = placements.Select(p => p.MeterId).Distinct(StringComparer.Ordinal).ToArray();
            // A meter that moved counts its interruptions where it was when they started.
            var stored = (await queries.GetCustomerInterruptionsAsync(meters, from, to, ct))
                .Where(i => placements.Any(p => p.MeterId == i.MeterId && p.ValidFrom <= i.Start && (p.ValidTo is null || i.Start < p.ValidTo)));
            var placedNow = placements.Where(p => p.ValidTo is null).Select(p => p.MeterId).ToArray();
            var silent = SilentNow(await queries.GetLastReadingsAsync(placedNow, ct), from, to, now);
            var evidence = await queries.GetSilenceEvidenceAsync(node.Region, from, to, ct);
            return Answer(node.Id, node.Kind.Name(), from, to, now, meters.Length, stored.Concat(silent), evidence);
        });
    }

    private static (QueryReader Query, DateTimeOffset From, DateTimeOffset To) Read(string id, string idField, HttpContext context,
        GatewayOptions options, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        // Region names are the wider rule: they also allow spaces; feeder and transformer ids fit inside it.
        if (!Regions.IsValidName(id))
            query.Error(idField, Regions.NameRule);
        var (from, to) = query.Range(time.GetUtcNow(), DefaultSpan, options.MaxQueryRange);
        return (query, from, to);
    }

    private static async Task<IResult> RegionAnswerAsync(string region, DateTimeOffset from, DateTimeOffset to, AggregateQueries queries,
        DateTimeOffset now, CancellationToken ct)
    {
        var stored = await queries.GetCustomerInterruptionsAsync(region, from, to, ct);
        var served = await queries.CountCustomersServedAsync(region, from, to, ct);
        var silent = SilentNow(await queries.GetLastReadingsAsync(region, ct), from, to, now);
        var evidence = await queries.GetSilenceEvidenceAsync(region, from, to, ct);
        return Answer(region, "region", from, to, now, served, stored.Concat(silent), evidence);
    }

    private static IResult Answer(string nodeId, string level, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now, int served,
        IEnumerable<CustomerInterruption> found, SilenceEvidence evidence)
    {
        // Nothing has happened after now: an open interruption lasts up to now, not to a later end of the period.
        var asOf = to > now && now > from ? now : to;
        // Evidence is judged as of now, not the period's end: the minute after a silence near the end may lie beyond it.
        var judged = found.ToLookup(i => evidence.Counts(i, now));
        var interruptions = judged[true].OrderBy(i => i.Start).ThenBy(i => i.MeterId, StringComparer.Ordinal).ToList();
        var indices = ReliabilityIndices.Of(interruptions, served, from, asOf);
        return GatewayJson.Ok(new NodeReliability(nodeId, level, from, to, served, indices.Saifi, indices.SaidiMinutes, indices.CaidiMinutes, indices.Maifi,
            indices.Sustained, indices.Momentary, indices.SustainedMinutes,
            interruptions.Take(MaxInterruptions).Select(i => InterruptionView.Of(i, asOf)).ToArray(), interruptions.Count > MaxInterruptions, judged[false].Count()));
    }

    /// <summary>
    /// The meters that fell silent and have not reported since: their interruption started one reporting interval after
    /// their last reading, and no reading has yet told a meter so (it is stored when the meter reports again, with the same start).
    /// </summary>
    private static IEnumerable<CustomerInterruption> SilentNow(IEnumerable<MeterLastReading> last, DateTimeOffset from, DateTimeOffset to,
        DateTimeOffset now) =>
        from >= now ? [] : last
            .Select(m => (m.MeterId, Start: CustomerInterruptions.SilenceStart(m.Newest, m.Interval, now)))
            .Where(m => m.Start is { } s && s >= from && s < to)
            .Select(m => new CustomerInterruption(m.MeterId, m.Start!.Value, null, InterruptionStart.Silence));
}
