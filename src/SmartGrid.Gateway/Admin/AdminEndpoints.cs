using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;
using SmartGrid.Storage.Meters;

namespace SmartGrid.Gateway.Admin;

/// <summary>ADMIN routes: meters (create, assign, unassign) and users (list, role and operator regions).</summary>
internal static class AdminEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var admin = api.MapSignedInGroup("/admin", "admin", Roles.AdminPolicy);
        admin.MapPost("/meters", CreateMeterAsync).WithName("admin.meters.create")
            .Produces<MeterView>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Register a meter").Body("""{"meter_id":"MTR-00000042","region":"Pune-West"}""");
        admin.MapGet("/meters/{meterId}", GetMeterAsync).WithName("admin.meters.get")
            .Produces<MeterView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A registered meter: its region and current owner");
        admin.MapPut("/meters/{meterId}/assignment", AssignAsync).WithName("admin.meters.assign")
            .Produces<MeterAssignment>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Give the meter to a user").Body("""{"user_id":"01a22eb2-cf79-7317-9b44-cbb6fb3260da"}""");
        admin.MapDelete("/meters/{meterId}/assignment", UnassignAsync).WithName("admin.meters.unassign")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Take the meter from its user");
        admin.MapGet("/users", ListUsersAsync).WithName("admin.users.list").WithSummary("Users, oldest first").Paged().Produces<Page<UserView>>();
        admin.MapPut("/users/{userId}/disabled", SetDisabledAsync).WithName("admin.users.disabled")
            .Produces<UserView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Disable (every session ends at once) or enable an account").Body("""{"disabled":true}""");
        admin.MapPut("/users/{userId}/role", SetRoleAsync).WithName("admin.users.role")
            .Produces<UserView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Set a user's role (and an operator's regions)").Body("""{"role":"OPERATOR","operator_regions":["Nashik"]}""");
    }

    private static Task<IResult> CreateMeterAsync(HttpContext context, GatewayOptions options, GatewayRegions regions, MeterDirectory meters) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var meterId = body.String("meter_id", required: true, maxLength: 64);
            var region = body.String("region", required: true, maxLength: 128);
            if (meterId is not null && !Identifiers.IsMeterId(meterId))
                body.Error("meter_id", Identifiers.MeterIdRule);
            if (region is not null && !regions.IsKnown(region))
                body.Error("region", $"must be one of {string.Join(", ", regions.Names)}");
            if (body.HasErrors)
                return body.Problem();

            if (!await meters.CreateAsync(meterId!, region!, context.RequestAborted))
                return Problems.Conflict("Meter exists", $"Meter '{meterId}' is already registered.");
            return GatewayJson.Created($"/api/v1/admin/meters/{meterId}", new MeterView(meterId!, region!, null));
        });

    private static async Task<IResult> GetMeterAsync(string meterId, HttpContext context, MeterRegistry registry, MeterDirectory meters)
    {
        if (!Identifiers.IsMeterId(meterId))
            return Problems.Field("meterId", Identifiers.MeterIdRule);
        var ct = context.RequestAborted;
        if (await registry.GetRegionAsync(meterId, ct) is not { } region)
            return Problems.NotFound("Meter not found", $"No meter '{meterId}' is registered.");
        return GatewayJson.Ok(new MeterView(meterId, region, await meters.CurrentAssignmentAsync(meterId, ct)));
    }

    private static async Task<IResult> AssignAsync(string meterId, HttpContext context, GatewayOptions options, MeterDirectory meters)
    {
        if (!Identifiers.IsMeterId(meterId))
            return Problems.Field("meterId", Identifiers.MeterIdRule);
        return await JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var userText = body.String("user_id", required: true, maxLength: 64);
            Guid userId = default;
            if (userText is not null && !Guid.TryParse(userText, out userId))
                body.Error("user_id", "must be a UUID");
            if (body.HasErrors)
                return body.Problem();

            var ct = context.RequestAborted;
            var outcome = await meters.AssignAsync(meterId, userId, ct);
            return outcome switch
            {
                AssignOutcome.Assigned or AssignOutcome.AlreadyAssigned =>
                    GatewayJson.Ok(await meters.CurrentAssignmentAsync(meterId, ct)),
                AssignOutcome.MeterNotFound => Problems.NotFound("Meter not found", $"No meter '{meterId}' is registered."),
                AssignOutcome.UserNotFound => Problems.NotFound("User not found", $"No user '{userId}'."),
                _ => Problems.Conflict("Meter assigned to another user", $"Meter '{meterId}' belongs to another user; unassign it first."),
            };
        });
    }

    private static async Task<IResult> UnassignAsync(string meterId, HttpContext context, MeterDirectory meters)
    {
        if (!Identifiers.IsMeterId(meterId))
            return Problems.Field("meterId", Identifiers.MeterIdRule);
        return await meters.UnassignAsync(meterId, context.RequestAborted)
            ? Results.NoContent()
            : Problems.NotFound("No assignment", $"Meter '{meterId}' is not assigned to anyone.");
    }

    private static async Task<IResult> ListUsersAsync(HttpContext context, GatewayOptions options, AccountStore accounts)
    {
        var query = new QueryReader(context.Request.Query);
        var limit = query.Int("limit", options.DefaultPageSize, 1, options.MaxPageSize);
        var offset = query.Int("offset", 0, 0, int.MaxValue);
        if (query.HasErrors)
            return query.Problem();
        var (users, total) = await accounts.ListUsersAsync(limit, offset, context.RequestAborted);
        return GatewayJson.Ok(new Page<UserView>(users.Select(UserView.Of).ToArray(), total, limit, offset));
    }

    /// <summary>The opening of a change to one user: the id from the route, then the JSON body.</summary>
    private static Task<IResult> UserBodyAsync(string userId, HttpContext context, GatewayOptions options, Func<Guid, JsonBody, Task<IResult>> handle) =>
        Guid.TryParse(userId, out var id)
            ? JsonBody.HandleAsync(context, options.MaxBodyBytes, body => handle(id, body))
            : Task.FromResult(Problems.Field("userId", "must be a UUID"));

    private static Task<IResult> SetDisabledAsync(string userId, HttpContext context, GatewayOptions options, AccountStore accounts,
        SessionRevocations revocations, TimeProvider time) =>
        UserBodyAsync(userId, context, options, async (id, body) =>
        {
            var disabled = body.Boolean("disabled", required: true);
            if (body.HasErrors)
                return body.Problem();
            var ct = context.RequestAborted;
            if (!await accounts.SetDisabledAsync(id, disabled!.Value, time.GetUtcNow(), ct))
                return Problems.NotFound("User not found", $"No user '{id}'.");
            if (disabled.Value)
                await revocations.RevokeUserAsync(id, RevokeReason.Disabled, time.GetUtcNow(), ct);
            return GatewayJson.Ok(UserView.Of((await accounts.FindByIdAsync(id, ct))!));
        });

    private static Task<IResult> SetRoleAsync(string userId, HttpContext context, GatewayOptions options, GatewayRegions regions,
        AccountStore accounts, SessionRevocations revocations, TimeProvider time) =>
        UserBodyAsync(userId, context, options, async (id, body) =>
        {
            var role = body.String("role", required: true, maxLength: 16);
            var operated = body.StringArray("operator_regions", required: false) ?? [];
            if (role is not null && !Roles.All.Contains(role, StringComparer.Ordinal))
            {
                body.Error("role", $"must be one of {string.Join(", ", Roles.All)}");
                role = null;
            }
            if (role is not null && role != Roles.Operator && operated.Length > 0)
                body.Error("operator_regions", "only an OPERATOR operates regions; leave it empty for other roles");
            foreach (var unknown in operated.Where(r => !regions.IsKnown(r)))
                body.Error("operator_regions", $"'{unknown}' is not a region; known: {string.Join(", ", regions.Names)}");
            if (body.HasErrors)
                return body.Problem();

            var ct = context.RequestAborted;
            var before = await accounts.FindByIdAsync(id, ct);
            var regionsAfter = operated.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            if (before is null || !await accounts.SetRoleAsync(id, role!, regionsAfter, ct))
                return Problems.NotFound("User not found", $"No user '{id}'.");
            // Tokens carry the role and regions: the old ones must not outlive the change, so every session ends.
            if (before.Role != role || !before.OperatorRegions.Order(StringComparer.Ordinal).SequenceEqual(regionsAfter))
                await revocations.RevokeUserAsync(id, RevokeReason.RoleChanged, time.GetUtcNow(), ct);
            return GatewayJson.Ok(UserView.Of((await accounts.FindByIdAsync(id, ct))!));
        });

}

/// <summary>A registered meter, its region and current owner (none: null).</summary>
public sealed record MeterView(string MeterId, string Region, MeterAssignment? Assignment);

/// <summary>A user as an admin sees them (never the password hash).</summary>
public sealed record UserView(Guid Id, string Email, string? Phone, string Role, string[] OperatorRegions, bool EmailVerified, DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt)
{
    public static UserView Of(UserRecord u) => new(u.Id, u.Email, u.Phone, u.Role, u.OperatorRegions, u.EmailVerified, u.CreatedAt, u.DisabledAt);
}
