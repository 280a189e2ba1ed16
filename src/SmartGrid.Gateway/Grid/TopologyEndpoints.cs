using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Admin;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Grid;

/// <summary>
/// The grid's topology: ADMIN routes to create, change and delete feeders and transformers, place a
/// meter, and import a whole tree from CSV; and <c>GET /grid/topology</c>, the tree an OPERATOR
/// sees (only their regions).
/// </summary>
internal static class TopologyEndpoints
{
    /// <summary>An import file may hold at most this many bytes and lines: a city's tree fits, a hostile upload does not.</summary>
    public const int ImportMaxBytes = 16 * 1024 * 1024;

    public const int ImportMaxLines = 200_000;

    private static readonly string[] FixedFields = ["id", "kind", "region"];

    public static void Map(RouteGroupBuilder api)
    {
        var admin = api.MapSignedInGroup("/admin/topology", "admin", Roles.AdminPolicy);
        admin.MapGet("/nodes", ListNodesAsync).WithName("admin.topology.nodes.list").Produces<ItemList<GridNodeView>>()
            .WithSummary("Every feeder and transformer, by region, kind and id").Query("region", "Only this region's");
        admin.MapPost("/feeders", (HttpContext c, GatewayOptions o, TopologyStore t) => CreateAsync(GridNodeKind.Feeder, c, o, t))
            .WithName("admin.topology.feeders.create").Body("""{"id":"FD-NSK-01","region":"Nashik","rated_kw":2500}""")
            .WithSummary("Create a feeder on a region's substation; rated_kw is the real-power rating its load % is measured against")
            .Produces<GridNodeView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/transformers", (HttpContext c, GatewayOptions o, TopologyStore t) => CreateAsync(GridNodeKind.Transformer, c, o, t))
            .WithName("admin.topology.transformers.create").Body("""{"id":"TR-NSK-01-01","feeder_id":"FD-NSK-01","rated_kw":250}""")
            .WithSummary("Create a transformer on a feeder")
            .Produces<GridNodeView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/nodes/{id}", GetNodeAsync).WithName("admin.topology.nodes.get").Produces<GridNodeView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One node (a region, feeder or transformer) by id in any case");
        admin.MapPut("/nodes/{id}", UpdateNodeAsync).WithName("admin.topology.nodes.update").Body("""{"rated_kw":315}""")
            .WithSummary("Change a node's rated_kw, or a transformer's feeder within its region (fields left out keep their value)")
            .Produces<GridNodeView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapDelete("/nodes/{id}", DeleteNodeAsync).WithName("admin.topology.nodes.delete")
            .WithSummary("Delete a feeder nothing hangs on or a transformer no meter was ever placed under")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/meters/{meterId}", PlacementsAsync).WithName("admin.topology.meters.get").Produces<MeterPlacements>()
            .WithSummary("Where a meter hung and hangs, oldest first");
        admin.MapPut("/meters/{meterId}", PlaceAsync).WithName("admin.topology.meters.place")
            .Body("""{"transformer_id":"TR-NSK-01-01","valid_from":"2026-12-01T00:00:00Z"}""")
            .WithSummary("Place a meter under a transformer from valid_from (default now), closing where it was")
            .Produces<MeterPlacements>().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/import", ImportAsync).WithName("admin.topology.import").Accepts<string>("text/csv")
            .WithSummary("Place meters from CSV (header meter_id,transformer_id,feeder_id,region; optional transformer_rated_kw, feeder_rated_kw create missing nodes); idempotent; per-line errors")
            .Query("valid_from", "When the placements start (default now)").Produces<TopologyImportAnswer>().ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        var grid = api.MapSignedInGroup("/grid", "grid", Roles.OperatorPolicy);
        grid.MapGet("/topology", TreeAsync).WithName("grid.topology").Produces<TopologyTree>().ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("The tree region → feeder → transformer → meters as placed now, of the regions the caller operates")
            .Query("region", "Only this region");
        grid.MapGet("/nodes/{id}/load", NodeLoadAsync).WithName("grid.nodes.load").Produces<NodeLoadPage>()
            .OperatedOnly()
            .WithSummary("A node's load windows in [from, to): the summed average power of the meters placed under it, % of its rating, meters reported and expected")
            .TimeRange("1 day").Query("resolution", "1m (at most 1 day) or 15m (default)");
    }

    private static async Task<IResult> NodeLoadAsync(string id, HttpContext context, GatewayOptions options, TopologyStore topology,
        AggregateQueries queries, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var (from, to) = query.Range(time.GetUtcNow(), TimeSpan.FromDays(1), options.MaxQueryRange);
        var size = query.Resolution(WindowSize.FifteenMinutes);
        if (!query.HasErrors && size == WindowSize.OneMinute && to - from > TimeSpan.FromDays(1))
            query.Error("from", "with resolution=1m the range from..to may span at most 1 day");
        return await GridNodes.HandleOperatedAsync(id, query, context, topology, async node =>
        {
            var rows = await queries.GetNodeLoadAsync(node, size, from, to, context.RequestAborted);
            return GatewayJson.Ok(new NodeLoadPage(node.Id, node.Kind.Name(), node.RatedKw, size.ToWireName(), from, to,
                rows.Select(r => new NodeLoadWindow(r.WindowStart, r.TotalPowerKw, r.LoadPercent ?? r.TotalPowerKw / node.RatedKw * 100, r.MeterCount, r.ExpectedMeters)).ToList()));
        });
    }

    private static async Task<IResult> ListNodesAsync(HttpContext context, TopologyStore topology, GatewayRegions regions)
    {
        var query = new QueryReader(context.Request.Query);
        var region = RegionParameter(query, regions);
        if (query.HasErrors)
            return query.Problem();
        var nodes = await topology.NodesAsync(region is null ? null : [region], context.RequestAborted);
        return GatewayJson.Ok(new ItemList<GridNodeView>(nodes.Select(GridNodeView.From).ToList()));
    }

    private static Task<IResult> CreateAsync(GridNodeKind kind, HttpContext context, GatewayOptions options, TopologyStore topology) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var parentField = kind == GridNodeKind.Feeder ? "region" : "feeder_id";
            var spec = new GridNodeSpec(body.String("id", required: true, maxLength: Topology.IdMaxLength) ?? "",
                kind, body.String(parentField, required: true, maxLength: Topology.IdMaxLength) ?? "", RatedKw(body, required: true) ?? 1);
            // A field already refused stands in with a placeholder, so the domain's check runs only on a body that passed the shape.
            if (!body.HasErrors)
            {
                foreach (var error in Topology.Check(spec))
                    body.Error(error.Field, error.Reason);
            }
            if (body.HasErrors)
                return body.Problem();
            var (outcome, node, fieldError) = await topology.CreateNodeAsync(spec, context.RequestAborted);
            return outcome switch
            {
                TopologyChange.Done => GatewayJson.Created($"/api/v1/admin/topology/nodes/{Uri.EscapeDataString(node!.Id)}", GridNodeView.From(node)),
                TopologyChange.Conflict => Problems.Conflict("Node exists", fieldError!.Reason),
                _ => Problems.Field(fieldError!.Field, fieldError.Reason),
            };
        });

    private static async Task<IResult> GetNodeAsync(string id, HttpContext context, TopologyStore topology) =>
        await GridNodes.FindAsync(id, topology, context.RequestAborted) is { } node ? GatewayJson.Ok(GridNodeView.From(node)) : GridNodes.NotFound(id);

    private static Task<IResult> UpdateNodeAsync(string id, HttpContext context, GatewayOptions options, TopologyStore topology) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            foreach (var fixedField in FixedFields.Where(body.Has))
                body.Error(fixedField, "cannot change; create a new node and move the meters");
            var ratedKw = RatedKw(body, required: false);
            var feederId = body.String("feeder_id", required: false, maxLength: Topology.IdMaxLength);
            if (feederId is not null && !Topology.IsValidId(feederId))
                body.Error("feeder_id", Topology.IdRule);
            if (body.HasErrors)
                return body.Problem();
            if (!Topology.IsValidId(id))
                return GridNodes.NotFound(id);
            var (outcome, node, fieldError) = await topology.UpdateNodeAsync(id, ratedKw, feederId, context.RequestAborted);
            return outcome switch
            {
                TopologyChange.Done => GatewayJson.Ok(GridNodeView.From(node!)),
                TopologyChange.Conflict => Problems.Field(fieldError!.Field, fieldError.Reason),
                _ => GridNodes.NotFound(id),
            };
        });

    private static async Task<IResult> DeleteNodeAsync(string id, HttpContext context, TopologyStore topology)
    {
        if (!Topology.IsValidId(id))
            return GridNodes.NotFound(id);
        var (outcome, reason) = await topology.DeleteNodeAsync(id, context.RequestAborted);
        return outcome switch
        {
            TopologyChange.Done => Results.NoContent(),
            TopologyChange.Conflict => Problems.Conflict("Node in use", reason!),
            _ => GridNodes.NotFound(id),
        };
    }

    private static async Task<IResult> PlacementsAsync(string meterId, HttpContext context, TopologyStore topology)
    {
        if (!Identifiers.IsMeterId(meterId))
            return Problems.Field("meterId", Identifiers.MeterIdRule);
        return GatewayJson.Ok(new MeterPlacements(meterId, (await topology.PlacementsOfAsync(meterId, context.RequestAborted)).Select(PlacementView.From).ToList()));
    }

    private static Task<IResult> PlaceAsync(string meterId, HttpContext context, GatewayOptions options, TopologyStore topology, TimeProvider time) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            if (!Identifiers.IsMeterId(meterId))
                body.Error("meterId", Identifiers.MeterIdRule);
            var transformerId = body.String("transformer_id", required: true, maxLength: Topology.IdMaxLength);
            var validFrom = body.Time("valid_from", required: false) ?? time.GetUtcNow();
            if (transformerId is not null && !Topology.IsValidId(transformerId))
                body.Error("transformer_id", Topology.IdRule);
            if (body.HasErrors)
                return body.Problem();
            var ct = context.RequestAborted;
            if (await topology.FindNodeAsync(transformerId!, ct) is not { Kind: GridNodeKind.Transformer } transformer)
                return Problems.Field("transformer_id", $"no transformer '{transformerId}'");
            var result = (await topology.ImportAsync([new(1, meterId, transformer.Id, transformer.ParentId!, transformer.Region)], validFrom, ct))[0];
            if (result.Outcome == PlacementOutcome.Refused)
                return Problems.Validation(result.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray()));
            return GatewayJson.Ok(new MeterPlacements(meterId, (await topology.PlacementsOfAsync(meterId, ct)).Select(PlacementView.From).ToList()));
        });

    private static async Task<IResult> ImportAsync(HttpContext context, TopologyStore topology, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var validFrom = query.Time("valid_from", required: false) ?? time.GetUtcNow();
        if (query.HasErrors)
            return query.Problem();
        if (context.Request.ContentType is { } type && !type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase)
            && !type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type",
                detail: $"Send the file as text/csv (got '{TopologyCsv.Shorten(type)}').");
        }
        var (read, failure) = await JsonBody.ReadBytesAsync(context, ImportMaxBytes);
        if (failure is not null)
            return failure;
        await using var body = read!;
        var (rows, refused, problem) = TopologyCsv.Parse(body, ImportMaxLines);
        if (problem is not null)
            return problem;
        var results = (await topology.ImportAsync(rows, validFrom, context.RequestAborted)).Concat(refused).OrderBy(r => r.Line).ToList();
        return GatewayJson.Ok(new TopologyImportAnswer(validFrom, results.Count,
            results.Count(r => r.Outcome == PlacementOutcome.Placed), results.Count(r => r.Outcome == PlacementOutcome.Moved),
            results.Count(r => r.Outcome == PlacementOutcome.Unchanged), results.Count(r => r.Outcome == PlacementOutcome.Refused),
            results.Where(r => r.Outcome == PlacementOutcome.Refused).Select(r => new ImportLineErrors(r.Line, r.MeterId,
                r.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray()))).ToList()));
    }

    private static async Task<IResult> TreeAsync(HttpContext context, TopologyStore topology, GatewayRegions regions, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var asked = RegionParameter(query, regions);
        if (query.HasErrors)
            return query.Problem();
        var user = CurrentUser.From(context.User);
        if (asked is not null && !user.MayOperate(asked))
            return Problems.Forbidden($"You do not operate region '{asked}'.");
        var shown = asked is not null ? [asked] : regions.Names.Where(user.MayOperate).ToArray();
        var ct = context.RequestAborted;
        var at = time.GetUtcNow();
        var nodes = await topology.NodesAsync(shown, ct);
        var meters = (await topology.PlacementsAtAsync(shown, at, ct)).ToLookup(p => p.TransformerId, p => p.MeterId, StringComparer.Ordinal);
        var transformers = nodes.Where(n => n.Kind == GridNodeKind.Transformer).ToLookup(n => n.ParentId!, StringComparer.Ordinal);
        var feeders = nodes.Where(n => n.Kind == GridNodeKind.Feeder).ToLookup(n => n.Region, StringComparer.Ordinal);
        return GatewayJson.Ok(new TopologyTree(at, shown.Select(region =>
        {
            var branches = feeders[region].Select(f =>
            {
                var leaves = transformers[f.Id].Select(t => new TransformerBranch(t.Id, t.RatedKw, meters[t.Id].Count(), meters[t.Id].ToList())).ToList();
                return new FeederBranch(f.Id, f.RatedKw, leaves.Sum(l => l.MeterCount), leaves);
            }).ToList();
            return new RegionBranch(region, regions.CapacityKw(region), branches.Sum(b => b.MeterCount), branches);
        }).ToList()));
    }

    /// <summary>The canonical name of the region the query names, or null when it names none (an error when it names an unknown one).</summary>
    private static string? RegionParameter(QueryReader query, GatewayRegions regions)
    {
        var text = query.Raw("region");
        if (text is null)
            return null;
        if (regions.Canonical(text) is { } region)
            return region;
        query.Error("region", $"'{TopologyCsv.Shorten(text)}' is not a region; known: {string.Join(", ", regions.Names)}");
        return null;
    }

    private static double? RatedKw(JsonBody body, bool required) => (double?)body.Decimal("rated_kw", required, 0.001m, 1_000_000m);
}

/// <summary>A node as the routes answer it; kind is region, feeder or transformer.</summary>
public sealed record GridNodeView(string Id, string Kind, string? ParentId, string Region, double RatedKw)
{
    public static GridNodeView From(GridNode n) => new(n.Id, n.Kind.Name(), n.ParentId, n.Region, n.RatedKw);
}

public sealed record PlacementView(string TransformerId, DateTimeOffset ValidFrom, DateTimeOffset? ValidTo)
{
    public static PlacementView From(MeterPlacement p) => new(p.TransformerId, p.ValidFrom, p.ValidTo);
}

public sealed record MeterPlacements(string MeterId, IReadOnlyList<PlacementView> Placements);

/// <summary>What an import did: counts per outcome and, per refused line, the errors by CSV column.</summary>
public sealed record TopologyImportAnswer(DateTimeOffset ValidFrom, int Lines, int Placed, int Moved, int Unchanged, int Refused,
    IReadOnlyList<ImportLineErrors> Errors);

public sealed record ImportLineErrors(int Line, string MeterId, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>A node's load windows; <c>load_percent</c> is of the node's <c>rated_kw</c>.</summary>
public sealed record NodeLoadPage(string NodeId, string Kind, double RatedKw, string Resolution, DateTimeOffset From, DateTimeOffset To,
    IReadOnlyList<NodeLoadWindow> Items);

public sealed record NodeLoadWindow(DateTimeOffset WindowStart, double TotalPowerKw, double LoadPercent, int MeterCount, int ExpectedMeters);

public sealed record TopologyTree(DateTimeOffset At, IReadOnlyList<RegionBranch> Regions);

public sealed record RegionBranch(string Region, double CapacityKw, int MeterCount, IReadOnlyList<FeederBranch> Feeders);

public sealed record FeederBranch(string Id, double RatedKw, int MeterCount, IReadOnlyList<TransformerBranch> Transformers);

public sealed record TransformerBranch(string Id, double RatedKw, int MeterCount, IReadOnlyList<string> Meters);
