using SmartGrid.Domain.Grid;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Admin;

/// <summary>
/// ADMIN routes for the operator's data that ingestion trusts: regions (create, update, list,
/// retire, each change audited with who and when, before and after) and ingestion API keys
/// (create, showing the secret once; list without secrets; revoke).
/// </summary>
internal static class RegistryEndpoints
{
    private const string RegionExample = """{"name":"Nagpur","capacity_kw":2800,"nominal_voltage":230,"time_zone":"Asia/Kolkata"}""";

    public static void Map(RouteGroupBuilder api)
    {
        var admin = api.MapSignedInGroup("/admin", "admin", Roles.AdminPolicy);
        admin.MapGet("/regions", ListRegionsAsync).WithName("admin.regions.list").WithSummary("Every region, retired ones included")
            .Produces<ItemList<RegionView>>();
        admin.MapPost("/regions", CreateRegionAsync).WithName("admin.regions.create")
            .WithSummary("Create a region (nominal_voltage defaults to 230, time_zone to Asia/Kolkata)").Body(RegionExample)
            .Produces<RegionView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/regions/{region}", GetRegionAsync).WithName("admin.regions.get").WithSummary("One region (any case of its name)")
            .Produces<RegionView>().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPut("/regions/{region}", UpdateRegionAsync).WithName("admin.regions.update")
            .WithSummary("Change a region's capacity, nominal voltage or time zone (fields left out keep their value)")
            .Body("""{"capacity_kw":3000}""")
            .Produces<RegionView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapDelete("/regions/{region}", RetireRegionAsync).WithName("admin.regions.retire")
            .WithSummary("Retire a region: it keeps its history but takes no readings or meters")
            .Produces<RegionView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/regions/{region}/audit", RegionAuditAsync).WithName("admin.regions.audit").WithSummary("A region's changes, oldest first")
            .Produces<RegionAudit>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/ingestion-keys", ListKeysAsync).WithName("admin.ingestion-keys.list")
            .WithSummary("Ingestion API keys, newest first (never their secrets)").Produces<ItemList<IngestionKeyView>>();
        admin.MapPost("/ingestion-keys", CreateKeyAsync).WithName("admin.ingestion-keys.create")
            .WithSummary("Create a key for a head-end; the answer holds its secret, shown this once (regions absent = every region)")
            .Body("""{"name":"head-end pune","regions":["Pune-West"],"can_provision":false}""")
            .Produces<CreatedIngestionKey>(StatusCodes.Status201Created);
        admin.MapGet("/ingestion-keys/{id}", GetKeyAsync).WithName("admin.ingestion-keys.get").WithSummary("One key (never its secret)")
            .Produces<IngestionKeyView>().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapDelete("/ingestion-keys/{id}", RevokeKeyAsync).WithName("admin.ingestion-keys.revoke")
            .WithSummary("Revoke a key (refused by every ingestion node within 5 s)")
            .Produces<IngestionKeyView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ListRegionsAsync(HttpContext context, RegionCatalog catalog) =>
        GatewayJson.Ok(new ItemList<RegionView>((await catalog.RefreshAsync(context.RequestAborted)).All.Select(RegionView.From).ToList()));

    private static async Task<IResult> GetRegionAsync(string region, HttpContext context, RegionCatalog catalog) =>
        (await catalog.RefreshAsync(context.RequestAborted)).Find(region) is { } found
            ? GatewayJson.Ok(RegionView.From(found))
            : RegionNotFound(region);

    private static Task<IResult> CreateRegionAsync(HttpContext context, GatewayOptions options, RegionCatalog catalog) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            // A field already refused stands in with a valid value, so the domain's check names only the others.
            var name = body.String("name", required: true, maxLength: Regions.NameMaxLength);
            var spec = new RegionSpec(name ?? Regions.Defaults[0].Name, Number(body, "capacity_kw", required: true) ?? 1)
            {
                NominalVoltage = Number(body, "nominal_voltage", required: false) ?? Regions.DefaultNominalVoltage,
                TimeZone = body.String("time_zone", required: false, maxLength: 64) ?? Regions.DefaultTimeZone,
            };
            if (Check(body, spec) || body.HasErrors)
                return body.Problem();

            var (outcome, created) = await catalog.CreateAsync(spec, Actor(context), context.RequestAborted);
            return outcome == RegionChange.Conflict
                ? Problems.Conflict("Region exists", $"A region named '{name}' exists already (names are unique regardless of case; a retired one keeps its name).")
                : GatewayJson.Created($"/api/v1/admin/regions/{Uri.EscapeDataString(created!.Name)}", RegionView.From(created));
        });

    private static async Task<IResult> UpdateRegionAsync(string region, HttpContext context, GatewayOptions options, RegionCatalog catalog)
    {
        var ct = context.RequestAborted;
        if ((await catalog.RefreshAsync(ct)).Find(region) is not { } current)
            return RegionNotFound(region);
        return await JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            if (body.Has("name"))
                body.Error("name", "a region cannot be renamed (readings, aggregates and invoices name it); create a new one and retire this one");
            var spec = current.Spec with
            {
                CapacityKw = Number(body, "capacity_kw", required: false) ?? current.Spec.CapacityKw,
                NominalVoltage = Number(body, "nominal_voltage", required: false) ?? current.Spec.NominalVoltage,
                TimeZone = body.String("time_zone", required: false, maxLength: 64) ?? current.Spec.TimeZone,
            };
            if (Check(body, spec) || body.HasErrors)
                return body.Problem();

            var (outcome, updated) = await catalog.UpdateAsync(current.Name, spec.CapacityKw, spec.NominalVoltage, spec.TimeZone, Actor(context), ct);
            return Answer(outcome, updated, region);
        });
    }

    private static async Task<IResult> RetireRegionAsync(string region, HttpContext context, RegionCatalog catalog)
    {
        var (outcome, retired) = await catalog.RetireAsync(region, Actor(context), context.RequestAborted);
        return Answer(outcome, retired, region);
    }

    private static async Task<IResult> RegionAuditAsync(string region, HttpContext context, RegionCatalog catalog)
    {
        var ct = context.RequestAborted;
        if ((await catalog.RefreshAsync(ct)).Find(region) is not { } found)
            return RegionNotFound(region);
        var entries = await catalog.AuditOfAsync(found.Name, ct);
        return GatewayJson.Ok(new RegionAudit(found.Name, entries.Select(e => new RegionAuditItem(e.Id, e.Action, e.Actor, e.At,
            e.OldValue is null ? null : System.Text.Json.Nodes.JsonNode.Parse(e.OldValue),
            e.NewValue is null ? null : System.Text.Json.Nodes.JsonNode.Parse(e.NewValue))).ToList()));
    }

    private static async Task<IResult> ListKeysAsync(HttpContext context, IngestionKeys keys) =>
        GatewayJson.Ok(new ItemList<IngestionKeyView>((await keys.ListAsync(context.RequestAborted)).Select(IngestionKeyView.From).ToList()));

    private static async Task<IResult> GetKeyAsync(string id, HttpContext context, IngestionKeys keys)
    {
        if (!Guid.TryParse(id, out var keyId))
            return Problems.Field("id", "must be a UUID");
        return (await keys.ListAsync(context.RequestAborted)).FirstOrDefault(k => k.Id == keyId) is { } key
            ? GatewayJson.Ok(IngestionKeyView.From(key))
            : Problems.NotFound("Key not found", $"No ingestion key '{keyId}'.");
    }

    private static Task<IResult> CreateKeyAsync(HttpContext context, GatewayOptions options, IngestionKeys keys, RegionCatalog catalog) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var name = body.String("name", required: true, maxLength: 128);
            var named = body.StringArray("regions", required: false);
            var canProvision = body.Boolean("can_provision", required: false) ?? false;
            string[]? scope = null;
            if (named is not null)
            {
                var known = await catalog.RefreshAsync(context.RequestAborted);
                if (named.Length == 0)
                    body.Error("regions", "name at least one region, or leave it out for every region");
                scope = named.Select(r => known.FindActive(r)?.Name).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
                foreach (var unknown in named.Where(r => known.FindActive(r) is null))
                    body.Error("regions", $"'{unknown}' is not an active region; known: {string.Join(", ", known.Active.Select(r => r.Name))}");
            }
            if (body.HasErrors)
                return body.Problem();

            var (key, secret) = await keys.CreateAsync(name!, scope, canProvision, Actor(context), context.RequestAborted);
            // The only time the secret leaves the server: it is stored as a hash.
            return GatewayJson.Created($"/api/v1/admin/ingestion-keys/{key.Id}",
                new CreatedIngestionKey(key.Id, key.Name, key.Prefix, key.Regions, key.CanProvision, key.CreatedAt, secret));
        });

    private static async Task<IResult> RevokeKeyAsync(string id, HttpContext context, IngestionKeys keys)
    {
        if (!Guid.TryParse(id, out var keyId))
            return Problems.Field("id", "must be a UUID");
        var (key, revoked) = await keys.RevokeAsync(keyId, Actor(context), context.RequestAborted);
        if (key is null)
            return Problems.NotFound("Key not found", $"No ingestion key '{keyId}'.");
        return revoked
            ? GatewayJson.Ok(IngestionKeyView.From(key))
            : Problems.Conflict("Key revoked already", $"Ingestion key '{key.Prefix}…' was revoked at {key.RevokedAt:O}.");
    }

    private static double? Number(JsonBody body, string name, bool required) =>
        (double?)body.Decimal(name, required, 0.001m, 1_000_000_000m);

    /// <summary>Adds the domain's objections to <paramref name="spec"/> to the body's errors; true when there were any.</summary>
    private static bool Check(JsonBody body, RegionSpec spec)
    {
        var errors = Regions.Check(spec);
        foreach (var error in errors)
            body.Error(error.Field, error.Reason);
        return errors.Count > 0;
    }

    private static IResult Answer(RegionChange outcome, RegionRecord? region, string asked) => outcome switch
    {
        RegionChange.Done => GatewayJson.Ok(RegionView.From(region!)),
        RegionChange.Retired => Problems.Conflict("Region retired", $"Region '{region!.Name}' was retired at {region.RetiredAt:O}; it cannot change."),
        _ => RegionNotFound(asked),
    };

    private static IResult RegionNotFound(string region) =>
        Problems.NotFound("Region not found", $"No region '{(region.Length <= 64 ? region : region[..64] + "…")}'.");

    /// <summary>Who the audit names: the admin's user id.</summary>
    private static string Actor(HttpContext context) => "user:" + CurrentUser.From(context.User).Id;
}

/// <summary>A region as the admin routes answer it.</summary>
public sealed record RegionView(string Name, double CapacityKw, double NominalVoltage, string TimeZone, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? RetiredAt)
{
    public static RegionView From(RegionRecord r) =>
        new(r.Name, r.Spec.CapacityKw, r.Spec.NominalVoltage, r.Spec.TimeZone, r.IsActive ? "active" : "retired", r.CreatedAt, r.UpdatedAt, r.RetiredAt);
}

public sealed record RegionAudit(string Region, IReadOnlyList<RegionAuditItem> Items);

/// <summary>One change of a region: who made it, when, and its values before and after.</summary>
public sealed record RegionAuditItem(long Id, string Action, string Actor, DateTimeOffset At,
    System.Text.Json.Nodes.JsonNode? Old, System.Text.Json.Nodes.JsonNode? New);

/// <summary>An ingestion key without its secret.</summary>
public sealed record IngestionKeyView(Guid Id, string Name, string Prefix, IReadOnlyList<string>? Regions, bool CanProvision,
    string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static IngestionKeyView From(IngestionKey k) =>
        new(k.Id, k.Name, k.Prefix, k.Regions, k.CanProvision, k.CreatedBy, k.CreatedAt, k.LastUsedAt, k.RevokedAt);
}

/// <summary>The create answer: the only one that carries the key's secret.</summary>
public sealed record CreatedIngestionKey(Guid Id, string Name, string Prefix, IReadOnlyList<string>? Regions, bool CanProvision,
    DateTimeOffset CreatedAt, string Secret);

/// <summary>A plain list under <c>items</c>.</summary>
public sealed record ItemList<T>(IReadOnlyList<T> Items);
