using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage.Alerts;

namespace SmartGrid.Gateway.Admin;

/// <summary>
/// ADMIN routes for escalation policies: which alerts (optional severity, type, region) page whom (ordered tiers of users and
/// roles) after how long unacknowledged. The NotificationManager reads them at every check, so a change applies to the
/// next step of every running escalation (a deleted policy pages no further tier; reminders go on).
/// </summary>
internal static class EscalationPolicyEndpoints
{
    public const int MaxTiers = 5;
    public const int MaxWaitMinutes = 24 * 60;
    /// <summary>Only people who operate the grid are paged about it: a USER would learn of other customers' meters.</summary>
    private static readonly string[] PagedRoles = [Roles.Operator, Roles.Admin];

    private const string Example = """
        {"name":"critical overloads","severity":"critical","type":"THRESHOLD","region":"Pune-West",
         "tiers":[{"roles":["OPERATOR"],"wait_minutes":15},{"users":["8d7c6a2e-0000-4000-8000-000000000001"],"wait_minutes":30}]}
        """;

    public static void Map(RouteGroupBuilder api)
    {
        var admin = api.MapSignedInGroup("/admin/escalation-policies", "admin", Roles.AdminPolicy);
        admin.MapGet("", ListAsync).WithName("admin.escalation-policies.list").Produces<ItemList<EscalationPolicyView>>()
            .WithSummary("Every escalation policy, oldest first (the most specific matching policy applies; the oldest breaks ties)");
        admin.MapPost("", (HttpContext context, GatewayOptions options, EscalationStore store, GatewayRegions regions, AccountStore accounts) =>
                SaveAsync(null, context, options, store, regions, accounts))
            .WithName("admin.escalation-policies.create").Body(Example)
            .Produces<EscalationPolicyView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Create a policy: alerts it covers page tier 1 at once, then each next tier after the previous one's wait_minutes");
        admin.MapGet("/{id}", GetAsync).WithName("admin.escalation-policies.get").Produces<EscalationPolicyView>()
            .ProducesProblem(StatusCodes.Status404NotFound).WithSummary("One escalation policy");
        admin.MapPut("/{id}", (string id, HttpContext context, GatewayOptions options, EscalationStore store, GatewayRegions regions,
                    AccountStore accounts) => SaveAsync(id, context, options, store, regions, accounts))
            .WithName("admin.escalation-policies.update").Body(Example).Produces<EscalationPolicyView>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Replace a policy (the whole document)");
        admin.MapDelete("/{id}", DeleteAsync).WithName("admin.escalation-policies.delete").Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Delete a policy: running escalations page no further tier");
    }

    private static async Task<IResult> ListAsync(HttpContext context, EscalationStore store) =>
        GatewayJson.Ok(new ItemList<EscalationPolicyView>((await store.ListAsync(context.RequestAborted)).Select(EscalationPolicyView.From).ToList()));

    private static async Task<IResult> GetAsync(string id, HttpContext context, EscalationStore store)
    {
        if (!Guid.TryParse(id, out var policyId))
            return Problems.Field("id", "must be a UUID");
        return await store.FindAsync(policyId, context.RequestAborted) is { } found ? GatewayJson.Ok(EscalationPolicyView.From(found)) : NotFound(policyId);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, EscalationStore store)
    {
        if (!Guid.TryParse(id, out var policyId))
            return Problems.Field("id", "must be a UUID");
        return await store.DeleteAsync(policyId, context.RequestAborted) ? Results.NoContent() : NotFound(policyId);
    }

    /// <param name="id">null: create.</param>
    private static async Task<IResult> SaveAsync(string? id, HttpContext context, GatewayOptions options, EscalationStore store, GatewayRegions regions,
        AccountStore accounts)
    {
        var policyId = Guid.NewGuid();
        if (id is not null && !Guid.TryParse(id, out policyId))
            return Problems.Field("id", "must be a UUID");
        var ct = context.RequestAborted;
        if (id is not null && await store.FindAsync(policyId, ct) is null)
            return NotFound(policyId);
        return await JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {

            var name = body.String("name", required: true, maxLength: 100)?.Trim();
            if (name is { Length: 0 } || name?.Any(char.IsControl) == true)
                body.Error("name", "must be a non-empty name without control characters");
            var severity = body.String("severity", required: false, maxLength: 16)?.ToLowerInvariant();
            if (severity is not null && !SeverityExtensions.WireNames.Contains(severity))
                body.Error("severity", $"must be one of {string.Join(", ", SeverityExtensions.WireNames)} (or absent: any)");
            var typeName = body.String("type", required: false, maxLength: 16);
            var type = typeName is null ? null : SelectableAlertTypes.Find(typeName);
            if (typeName is not null && type is null)
                body.Error("type", $"must be one of {string.Join(", ", SelectableAlertTypes.Names)} (or absent: any)");
            var askedRegion = body.String("region", required: false, maxLength: 128);
            var region = askedRegion is null ? null : regions.Canonical(askedRegion);
            if (askedRegion is not null && region is null)
                body.Error("region", $"must be one of {string.Join(", ", regions.Names)} (or absent: any)");

            var tiers = new List<EscalationTier>();
            var items = body.Objects("tiers", required: true, minItems: 1, maxItems: MaxTiers) ?? [];
            for (var i = 0; i < items.Count; i++)
            {
                var tier = items[i];
                var users = new List<Guid>();
                foreach (var (text, index) in (tier.StringArray("users", required: false, maxItems: 20, maxLength: 36) ?? []).Select((t, n) => (t, n)))
                {
                    if (!Guid.TryParse(text, out var user))
                        tier.Error($"users[{index}]", "must be a user id (UUID)");
                    else if (await accounts.FindByIdAsync(user, ct) is not { } account || account.DisabledAt is not null)
                        tier.Error($"users[{index}]", $"no active user '{user}'");
                    else if (!PagedRoles.Contains(account.Role))
                        tier.Error($"users[{index}]", $"user '{user}' is a {account.Role}; only {string.Join(" and ", PagedRoles)} users are paged");
                    else if (!users.Contains(user))
                        users.Add(user);
                }
                var roles = (tier.StringArray("roles", required: false, maxItems: PagedRoles.Length, maxLength: 16) ?? []).Distinct().ToList();
                foreach (var role in roles.Where(r => !PagedRoles.Contains(r)))
                    tier.Error("roles", $"'{role}' cannot be paged; use {string.Join(" or ", PagedRoles)}");
                var wait = tier.Decimal("wait_minutes", required: true, min: 1, max: MaxWaitMinutes);
                if (wait is { } w && w != decimal.Truncate(w))
                    tier.Error("wait_minutes", "must be a whole number of minutes");
                if (users.Count == 0 && roles.Count == 0 && !tier.HasErrors)
                    tier.Error("users", "a tier pages at least one user or role");
                tiers.Add(new EscalationTier(users, roles, TimeSpan.FromMinutes((double)(wait ?? 1))));
            }
            if (body.HasErrors)
                return body.Problem();

            var policy = new EscalationPolicy(policyId, name!, severity, type, region, tiers);
            if (!await store.SaveAsync(policy, CurrentUser.From(context.User).Id.ToString(), create: id is null, ct))
                return Problems.Conflict("Policy exists", $"Another escalation policy is named '{name}' (names are unique regardless of case).");
            var saved = EscalationPolicyView.From((await store.FindAsync(policyId, ct))!);
            return id is null ? GatewayJson.Created($"/api/v1/admin/escalation-policies/{policyId}", saved) : GatewayJson.Ok(saved);
        });
    }

    private static IResult NotFound(Guid id) => Problems.NotFound("Policy not found", $"No escalation policy '{id}'.");
}

/// <summary>An escalation policy as the API shows it; null severity, type or region match any.</summary>
public sealed record EscalationPolicyView(Guid PolicyId, string Name, string? Severity, AlertType? Type, string? Region,
    IReadOnlyList<EscalationTierView> Tiers, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    internal static EscalationPolicyView From(StoredEscalationPolicy stored)
    {
        var p = stored.Policy;
        return new(p.PolicyId, p.Name, p.Severity, p.AlertType, p.Region,
            p.Tiers.Select(t => new EscalationTierView(t.Users, t.Roles, (int)t.Wait.TotalMinutes)).ToList(), stored.CreatedBy, stored.CreatedAt,
            stored.UpdatedAt);
    }
}

/// <summary>One tier: the users and roles paged, and the minutes before the next tier is.</summary>
public sealed record EscalationTierView(IReadOnlyList<Guid> Users, IReadOnlyList<string> Roles, int WaitMinutes);
