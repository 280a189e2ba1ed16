using Akka.Actor;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Grid;
using SmartGrid.Gateway.Http;
using SmartGrid.Gateway.Meters;
using SmartGrid.Storage;
using SmartGrid.Storage.Grid;

namespace SmartGrid.Gateway.Telemetry;

/// <summary>
/// OPERATOR (and ADMIN) routes over meters and regions. An operator sees the regions they
/// operate (token claim <c>region</c>); an admin sees all.
/// </summary>
internal static class OperatorEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var meters = api.MapSignedInGroup("/meters/{meterId}", "meters", Roles.OperatorPolicy);
        meters.MapGet("/aggregates", AggregatesAsync).Produces<AggregatePage>().ProducesProblem(StatusCodes.Status404NotFound).WithName("meters.aggregates")
            .WithSummary("A meter's 1-minute or 15-minute windows in [from, to) (paged by next_from)")
            .TimeRange("1 day").Query("resolution", "1m or 15m (default 15m)").Query("limit", "Page size, 1 to 1000 (default 100)");
        meters.MapGet("/status", StatusAsync).Produces<MeterStatus>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status504GatewayTimeout).WithName("meters.status")
            .WithSummary("Live state of the meter actor: open windows, baseline, last seen");
        meters.MapGet("/anomalies", AnomaliesAsync).Produces<MeterAnomalyList>().ProducesProblem(StatusCodes.Status404NotFound).WithName("meters.anomalies")
            .WithSummary("The meter's anomaly alerts seen in [from, to), oldest first (at most limit)")
            .TimeRange("1 day").Query("limit", "At most this many, 1 to 1000 (default 100)");

        var grid = api.MapSignedInGroup("/grid", "grid", Roles.OperatorPolicy);
        grid.MapGet("/regions", RegionsAsync).WithName("grid.regions").Produces<RegionOverviewList>()
            .WithSummary("Per region the caller operates: current load % (the newest complete window), a newer partial window marked, price in force and open alert count");
        grid.MapGet("/regions/{region}/load", RegionLoadAsync).Produces<RegionLoadPage>().ProducesProblem(StatusCodes.Status404NotFound).WithName("grid.regions.load")
            .WithSummary("A region's load windows (regional_aggregates_1m or _15m) in [from, to), each with meters reported, meters expected and whether it is complete")
            .TimeRange("1 day").Query("resolution", "1m (at most 1 day) or 15m (default)").Query("limit", "Page size, 1 to 1000 (default 100)");
        grid.MapGet("/regions/{region}/meters", RegionMetersAsync).Produces<Page<RegionMeter>>().ProducesProblem(StatusCodes.Status404NotFound).WithName("grid.regions.meters")
            .WithSummary("A region's meters in id order: reporting, silent or passivated, the newest 1-minute window, open anomalies (paged)")
            .Query("search", "Only meters whose id contains this (case-insensitive, letters, digits and '-', at most 12)").Paged();
    }

    private static async Task<IResult> RegionMetersAsync(string region, HttpContext context, GatewayOptions options, GatewayRegions regions,
        RegionMeters meters, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var search = query.Raw("search")?.Trim().ToUpperInvariant();
        if (search is { Length: 0 })
            search = null;
        else if (search is not null && (search.Length > 12 || !search.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            query.Error("search", "must be at most 12 letters, digits or '-' of a meter id (e.g. MTR-0000 or 0042)");
        var (limit, offset) = query.Page(options);
        if (query.HasErrors)
            return query.Problem();
        if (OperatedRegion(region, context, regions) is not { } canonical)
            return RegionRefusal(region, regions);
        var (items, total) = await meters.ListAsync(canonical, search, limit, offset, time.GetUtcNow(), context.RequestAborted);
        return GatewayJson.Ok(new Page<RegionMeter>(items, total, limit, offset));
    }

    private static async Task<IResult> AnomaliesAsync(string meterId, HttpContext context, GatewayOptions options, MeterRegistry registry,
        RegionMeters meters, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        if (!Identifiers.IsMeterId(meterId))
            query.Error("meterId", Identifiers.MeterIdRule);
        var (from, to) = query.Range(time.GetUtcNow(), TimeSpan.FromDays(1), options.MaxQueryRange);
        var limit = query.Int("limit", options.DefaultPageSize, 1, options.MaxPageSize);
        if (query.HasErrors)
            return query.Problem();
        var ct = context.RequestAborted;
        if (await CheckAccessAsync(context, registry, meterId, ct) is { } denied)
            return denied;
        var region = (await registry.GetRegionAsync(meterId, ct))!;
        return GatewayJson.Ok(new MeterAnomalyList(meterId, from, to, await meters.AnomaliesAsync(meterId, region, from, to, limit, ct)));
    }

    private static async Task<IResult> AggregatesAsync(string meterId, HttpContext context, GatewayOptions options, MeterRegistry registry,
        AggregateQueries queries, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        if (!Identifiers.IsMeterId(meterId))
            query.Error("meterId", Identifiers.MeterIdRule);
        var (from, to, size, limit) = AggregatePaging.Read(query, options, time.GetUtcNow(), WindowSize.FifteenMinutes);
        if (query.HasErrors)
            return query.Problem();
        var ct = context.RequestAborted;
        if (await CheckAccessAsync(context, registry, meterId, ct) is { } denied)
            return denied;
        return GatewayJson.Ok(await AggregatePaging.ReadAsync(queries, meterId, size, from, to, limit, ct));
    }

    private static async Task<IResult> StatusAsync(string meterId, HttpContext context, GatewayOptions options, MeterRegistry registry,
        IMeterStatusSource source)
    {
        if (!Identifiers.IsMeterId(meterId))
            return Problems.Field("meterId", Identifiers.MeterIdRule);
        var ct = context.RequestAborted;
        // Checked first also because asking the shard region would start an entity for any id.
        if (await CheckAccessAsync(context, registry, meterId, ct) is { } denied)
            return denied;
        try
        {
            return GatewayJson.Ok(await source.GetStatusAsync(meterId, options.MeterStatusTimeout, ct));
        }
        catch (AskTimeoutException)
        {
            return Results.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "Meter did not answer",
                detail: $"The meter actor for '{meterId}' did not answer within {options.MeterStatusTimeout.TotalSeconds:0.#} s; retry later.");
        }
    }

    private static async Task<IResult> RegionsAsync(HttpContext context, GatewayRegions regions, RegionOverview overview, TimeProvider time)
    {
        var user = CurrentUser.From(context.User);
        var operated = regions.Names.Where(user.MayOperate).ToArray();
        var items = await overview.SummarizeAsync(operated, time.GetUtcNow(), context.RequestAborted);
        return GatewayJson.Ok(new RegionOverviewList(items));
    }

    private static async Task<IResult> RegionLoadAsync(string region, HttpContext context, GatewayOptions options, GatewayRegions regions,
        AggregateQueries queries, MeterRegistry registry, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var (from, to) = query.Range(time.GetUtcNow(), TimeSpan.FromDays(1), options.MaxQueryRange);
        var size = query.Resolution(WindowSize.FifteenMinutes);
        var limit = query.Int("limit", options.DefaultPageSize, 1, options.MaxPageSize);
        // A 1-minute series over a month would be 44 640 rows; keep it to a day.
        if (!query.HasErrors && size == WindowSize.OneMinute && to - from > TimeSpan.FromDays(1))
            query.Error("from", "with resolution=1m the range from..to may span at most 1 day");
        if (query.HasErrors)
            return query.Problem();
        if (OperatedRegion(region, context, regions) is not { } canonical)
            return RegionRefusal(region, regions);
        region = canonical;

        var rows = await queries.GetRegionalLoadAsync(region, size, from, to, context.RequestAborted);
        var expected = (await registry.CountByRegionAsync([region], context.RequestAborted)).GetValueOrDefault(region);
        var next = rows.Count > limit ? rows[limit].WindowStart : (DateTimeOffset?)null;
        var items = rows.Take(limit).Select(w => RegionLoadWindow.Of(w, expected, options.CompleteWindowShare)).ToArray();
        return GatewayJson.Ok(new RegionLoadPage(region, size.ToWireName(), from, to, limit, items, next));
    }

    /// <summary>The region's stored name (any case finds it: "nashik") when the caller operates it, else null.</summary>
    private static string? OperatedRegion(string region, HttpContext context, GatewayRegions regions) =>
        regions.Canonical(region) is { } canonical && CurrentUser.From(context.User).MayOperate(canonical) ? canonical : null;

    /// <summary>Why <see cref="OperatedRegion"/> found no region: 404 when none has the name, 403 when the caller does not operate it.</summary>
    private static IResult RegionRefusal(string region, GatewayRegions regions) => regions.Canonical(region) is { } canonical
        ? Problems.Forbidden($"You do not operate region '{canonical}'.")
        : Problems.NotFound("Region not found", $"No region '{Truncate(region)}'; known: {string.Join(", ", regions.Names)}.");

    /// <summary>404 for an unknown meter, 403 for a meter outside the operator's regions, else null.</summary>
    private static async Task<IResult?> CheckAccessAsync(HttpContext context, MeterRegistry registry, string meterId, CancellationToken ct)
    {
        var region = await registry.GetRegionAsync(meterId, ct);
        if (region is null)
            return Problems.NotFound("Meter not found", $"No meter '{meterId}' is registered.");
        return CurrentUser.From(context.User).MayOperate(region)
            ? null
            : Problems.Forbidden($"Meter '{meterId}' is in region '{region}', which you do not operate.");
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
