using Confluent.Kafka;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Gateway.Telemetry;
using SmartGrid.Storage;
using SmartGrid.Storage.Meters;
using SmartGrid.Storage.Tariffs;

namespace SmartGrid.Gateway.Tariffs;

/// <summary>
/// <c>/api/v1/tariff</c>: a USER reads the price in force in their meter's region and its
/// history; an ADMIN overrides a region's price for a while, or lifts an override early.
/// </summary>
internal static class TariffEndpoints
{
    /// <summary>An override may start a little in the past (clock skew, slow clients) but not re-price consumption already billed.</summary>
    private static readonly TimeSpan ValidFromTolerance = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan MaxOverrideSpan = TimeSpan.FromDays(366);

    /// <summary>Prices change at most every 15 minutes per region, so even five years is a short read.</summary>
    private static readonly TimeSpan MaxHistorySpan = TimeSpan.FromDays(5 * 366);

    public static void Map(RouteGroupBuilder api)
    {
        var user = api.MapSignedInGroup("/tariff/user", "tariff", Roles.UserPolicy);
        user.MapGet("/current", CurrentAsync).Produces<CurrentTariffView>().ProducesProblem(StatusCodes.Status404NotFound).WithName("tariff.user.current")
            .WithSummary("Price in force in the region of the caller's meter (Redis first, PostgreSQL on a miss)")
            .Query("meter_id", "One of the caller's meters (default: the first)");
        user.MapGet("/history", HistoryAsync).Produces<TariffHistoryPage>().ProducesProblem(StatusCodes.Status404NotFound).WithName("tariff.user.history")
            .WithSummary("Price changes in the region of the caller's meter, newest first (paged)")
            .TimeRange("30 days").Paged().Query("meter_id", "One of the caller's meters (default: the first)");

        var op = api.MapSignedInGroup("/tariff/operator", "tariff", Roles.OperatorPolicy);
        op.MapGet("/history", RegionHistoryAsync).Produces<RegionTariffHistoryPage>().ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).WithName("tariff.operator.history")
            .WithSummary("Price changes of one of the caller's regions, newest first (paged)")
            .Query("region", "One of the caller's regions (required)").TimeRange("30 days").Paged();

        var admin = api.MapSignedInGroup("/tariff/admin", "tariff", Roles.AdminPolicy);
        admin.MapPost("/override", CreateOverrideAsync).WithName("tariff.admin.override.create").Produces<OverrideView>(StatusCodes.Status201Created)
            .WithSummary("Override a region's price (fixed price or percentage on the base rate) for [valid_from, valid_to)")
            .Body("""{"region":"Nashik","price_per_kwh":9.5,"valid_from":"2026-07-01T12:00:00Z","valid_to":"2026-07-01T18:00:00Z","reason":"heat wave"}""");
        admin.MapGet("/overrides", ListOverridesAsync).WithName("tariff.admin.overrides").Produces<Page<TariffOverride>>()
            .WithSummary("Overrides, newest first: those in force or ahead (default), or all")
            .Query("region", "Only this region").Query("status", "current (in force or ahead, the default) or all").Paged();
        admin.MapGet("/override/{overrideId}", GetOverrideAsync).WithName("tariff.admin.override.get")
            .Produces<OverrideView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One override, lifted or not");
        admin.MapDelete("/override/{overrideId}", LiftOverrideAsync).WithName("tariff.admin.override.lift")
            .Produces<OverrideView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Lift an override before it ends");
    }

    /// <summary>The caller's meter (or the one asked for, if theirs) and the region it is in; a problem when it is not theirs.</summary>
    /// <summary>The caller's meter (<see cref="UserTelemetryEndpoints.ResolveMeterAsync"/>) and its region.</summary>
    private static async Task<(string? MeterId, string? Region, IResult? Problem)> ResolveRegionAsync(HttpContext context,
        QueryReader query, MeterDirectory meters, MeterRegistry registry, string? requested)
    {
        var (meterId, problem) = await UserTelemetryEndpoints.ResolveMeterAsync(context, query, meters, requested);
        if (problem is not null)
            return (null, null, problem);
        return (meterId, await registry.GetRegionAsync(meterId!, context.RequestAborted), null);
    }

    private static async Task<IResult> CurrentAsync(HttpContext context, MeterDirectory meters, MeterRegistry registry, TariffStore tariffs)
    {
        var query = new QueryReader(context.Request.Query);
        var (meterId, region, problem) = await ResolveRegionAsync(context, query, meters, registry, UserTelemetryEndpoints.ReadMeterId(query));
        if (problem is not null)
            return problem;
        var ct = context.RequestAborted;
        if (region is null || await tariffs.CurrentAsync(region, ct) is not { } current)
            return Problems.NotFound("No tariff", $"No price is in force yet in the region of meter '{meterId}'.");
        var t = current.Tariff;
        return GatewayJson.Ok(new CurrentTariffView(meterId!, t.Region, t.PricePerKwh, t.EffectiveFrom, t.Reason, t.TariffId, current.Source));
    }

    private static async Task<IResult> HistoryAsync(HttpContext context, GatewayOptions options, MeterDirectory meters, MeterRegistry registry,
        TariffRecords tariffs, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var requested = UserTelemetryEndpoints.ReadMeterId(query);
        var (from, to) = query.Range(time.GetUtcNow(), TimeSpan.FromDays(30), MaxHistorySpan);
        var (limit, offset) = query.Page(options);
        var (meterId, region, problem) = await ResolveRegionAsync(context, query, meters, registry, requested);
        if (problem is not null)
            return problem;
        var (items, total) = region is null ? ([], 0) : await tariffs.HistoryAsync(region, from, to, limit, offset, context.RequestAborted);
        return GatewayJson.Ok(new TariffHistoryPage(meterId!, region, from, to, items, total, limit, offset));
    }

    private static async Task<IResult> RegionHistoryAsync(HttpContext context, GatewayOptions options, GatewayRegions regions, TariffRecords tariffs,
        TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var asked = query.Raw("region");
        if (string.IsNullOrWhiteSpace(asked))
            query.Error("region", $"is required: one of {string.Join(", ", regions.Names)}");
        var (from, to) = query.Range(time.GetUtcNow(), TimeSpan.FromDays(30), MaxHistorySpan);
        var (limit, offset) = query.Page(options);
        if (query.HasErrors)
            return query.Problem();
        // Any case finds the region; the answer and the query use its stored name.
        if (regions.Canonical(asked!) is not { } region)
            return Problems.NotFound("Region not found", $"No region '{(asked!.Length <= 64 ? asked : asked[..64] + "…")}'.");
        if (!CurrentUser.From(context.User).MayOperate(region))
            return Problems.Forbidden($"You do not operate region '{region}'.");
        var (items, total) = await tariffs.HistoryAsync(region, from, to, limit, offset, context.RequestAborted);
        return GatewayJson.Ok(new RegionTariffHistoryPage(region, from, to, items, total, limit, offset));
    }

    private static Task<IResult> CreateOverrideAsync(HttpContext context, GatewayOptions options, GatewayRegions regions, TariffRecords tariffs,
        TariffOverridePublisher publisher, TimeProvider time) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            // PostgreSQL keeps microseconds: answer with the times as they are stored.
            var clock = time.GetUtcNow();
            var now = new DateTimeOffset(clock.Ticks - (clock.Ticks % 10), TimeSpan.Zero);
            var region = body.String("region", required: true, maxLength: 128);
            if (region is not null && !regions.IsKnown(region))
                body.Error("region", $"must be one of {string.Join(", ", regions.Names)}");
            if (body.Has("price") && body.Has("price_per_kwh"))
                body.Error("price", "give price_per_kwh or its alias price, not both");
            var priceField = body.Has("price") ? "price" : "price_per_kwh";
            var price = body.Decimal(priceField, required: false, 0m, 1000m);
            var percentage = body.Decimal("percentage", required: false, -100m, 1000m);
            if (!body.Has(priceField) && !body.Has("percentage"))
                body.Error("price_per_kwh", "give either price_per_kwh (a fixed price) or percentage (on the region's base rate)");
            else if (body.Has(priceField) && body.Has("percentage"))
                body.Error("percentage", $"give either {priceField} or percentage, not both");
            if (price is { } p && decimal.Round(p, 4) != p)
                body.Error(priceField, "may have at most 4 decimal places");
            if (percentage is { } pc && decimal.Round(pc, 3) != pc)
                body.Error("percentage", "may have at most 3 decimal places");
            var validFrom = body.Time("valid_from", required: false) ?? (body.Has("valid_from") ? null : now);
            var validTo = body.Time("valid_to", required: true);
            var reason = body.String("reason", required: true, maxLength: 500);
            if (validFrom is { } from && validTo is { } to)
            {
                if (from < now - ValidFromTolerance)
                    body.Error("valid_from", "must not be in the past: an override cannot re-price consumption that already happened");
                if (to <= from)
                    body.Error("valid_to", $"must be after valid_from ({from:O})");
                else if (to - from > MaxOverrideSpan)
                    body.Error("valid_to", $"an override may last at most {MaxOverrideSpan.TotalDays:0} days");
            }
            if (body.HasErrors)
                return body.Problem();

            var user = CurrentUser.From(context.User);
            var created = new TariffOverride(Guid.CreateVersion7(), region!, price, percentage, validFrom!.Value, validTo!.Value, reason,
                user.Id.ToString(), now, null, null);
            // The row first: it is what the TariffManager applies (it inserts the message's override
            // idempotently by override_id and also re-prices overrides it finds in the table), so a
            // message that is lost, late or redelivered changes the timing at most, never the price.
            await tariffs.CreateOverrideAsync(created, context.RequestAborted);
            var published = await publisher.PublishAsync(new TariffOverrideMessage
            {
                OverrideId = created.OverrideId,
                Region = created.Region,
                PricePerKwh = created.PricePerKwh,
                Percentage = created.Percentage,
                ValidFrom = created.ValidFrom,
                ValidTo = created.ValidTo,
                Reason = created.Reason,
                CreatedBy = created.CreatedBy,
                Action = "create",
            });
            return GatewayJson.Created($"/api/v1/tariff/admin/override/{created.OverrideId}", OverrideView.Of(created, published));
        });

    private static async Task<IResult> ListOverridesAsync(HttpContext context, GatewayOptions options, GatewayRegions regions, TariffRecords tariffs,
        TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var region = query.Raw("region");
        if (region is not null && !regions.IsKnown(region))
            query.Error("region", $"must be one of {string.Join(", ", regions.Names)}");
        var status = query.Raw("status") ?? "current";
        if (status is not ("current" or "all"))
            query.Error("status", "must be current or all");
        var (limit, offset) = query.Page(options);
        if (query.HasErrors)
            return query.Problem();
        var (items, total) = await tariffs.ListOverridesAsync(region, status == "current", time.GetUtcNow(), limit, offset, context.RequestAborted);
        return GatewayJson.Ok(new Page<TariffOverride>(items, total, limit, offset));
    }

    private static async Task<IResult> GetOverrideAsync(string overrideId, HttpContext context, TariffRecords tariffs)
    {
        if (!Guid.TryParse(overrideId, out var id))
            return Problems.Field("overrideId", "must be a UUID");
        return await tariffs.FindOverrideAsync(id, context.RequestAborted) is { } found
            ? GatewayJson.Ok(OverrideView.Of(found, published: null))
            : Problems.NotFound("Override not found", $"No tariff override '{id}'.");
    }

    private static async Task<IResult> LiftOverrideAsync(string overrideId, HttpContext context, TariffRecords tariffs,
        TariffOverridePublisher publisher, TimeProvider time)
    {
        if (!Guid.TryParse(overrideId, out var id))
            return Problems.Field("overrideId", "must be a UUID");
        var user = CurrentUser.From(context.User);
        var (outcome, lifted) = await tariffs.LiftOverrideAsync(id, user.Id.ToString(), time.GetUtcNow(), context.RequestAborted);
        switch (outcome)
        {
            case LiftOutcome.NotFound:
                return Problems.NotFound("Override not found", $"No tariff override '{id}'.");
            case LiftOutcome.AlreadyLifted:
                return Problems.Conflict("Override already lifted", $"Override '{id}' was lifted at {lifted!.LiftedAt:O}.");
            case LiftOutcome.Ended:
                return Problems.Conflict("Override has ended", $"Override '{id}' ended at {lifted!.ValidTo:O}; there is nothing to lift.");
        }
        var published = await publisher.PublishAsync(new TariffOverrideMessage
        {
            OverrideId = lifted!.OverrideId,
            Region = lifted.Region,
            CreatedBy = user.Id.ToString(),
            Action = "lift",
        });
        return GatewayJson.Ok(OverrideView.Of(lifted, published));
    }
}

/// <summary>An override; <see cref="Published"/>: whether Kafka took this request's message (false: the TariffManager still applies the row at its next override check; null: nothing was published).</summary>
public sealed record OverrideView(Guid OverrideId, string Region, decimal? PricePerKwh, decimal? Percentage, DateTimeOffset ValidFrom,
    DateTimeOffset ValidTo, string? Reason, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LiftedAt, string? LiftedBy, bool? Published)
{
    public static OverrideView Of(TariffOverride o, bool? published) => new(o.OverrideId, o.Region, o.PricePerKwh, o.Percentage, o.ValidFrom,
        o.ValidTo, o.Reason, o.CreatedBy, o.CreatedAt, o.LiftedAt, o.LiftedBy, published);
}

/// <summary>Sends override messages to the TariffManager's overrides topic (key: region, so a region's messages stay in order).</summary>
public sealed class TariffOverridePublisher(IServiceProvider services, GridServicesOptions options, ILogger<TariffOverridePublisher> log)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>True once Kafka acknowledged the message; false (logged) when it did not within <see cref="Timeout"/>.</summary>
    public async Task<bool> PublishAsync(TariffOverrideMessage message)
    {
        var producer = services.GetRequiredService<IProducer<string, string>>();
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await producer.ProduceAsync(options.Tariffs.OverridesTopic,
                new Message<string, string> { Key = message.Region, Value = WireJson.Serialize(message) }, cts.Token);
            return true;
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            log.OverrideNotPublished(e, message.OverrideId, message.Action, options.Tariffs.OverridesTopic);
            return false;
        }
    }
}
