using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;
using SmartGrid.Storage.Meters;

namespace SmartGrid.Gateway.Telemetry;

/// <summary>
/// <c>/api/v1/telemetry/user</c>: a USER reads the aggregates of the meter assigned to them, and of
/// no other (the meter comes from the assignment, never from the caller alone).
/// </summary>
internal static class UserTelemetryEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var user = api.MapSignedInGroup("/telemetry/user", "telemetry", Roles.UserPolicy);
        user.MapGet("/history", HistoryAsync).Produces<AggregatePage>().ProducesProblem(StatusCodes.Status404NotFound).WithName("telemetry.user.history")
            .WithSummary("Windows of the caller's meter in [from, to) (paged by next_from)")
            .TimeRange("1 day").Query("resolution", "1m or 15m (default 15m)").Query("limit", "Page size, 1 to 1000 (default 100)")
            .Query("meter_id", "One of the caller's meters (default: the first)");
        user.MapGet("/latest", LatestAsync).Produces<LatestWindows>().ProducesProblem(StatusCodes.Status404NotFound).WithName("telemetry.user.latest")
            .WithSummary("Newest 1-minute and 15-minute window of the caller's meter").Query("meter_id", "One of the caller's meters (default: the first)");
    }

    private static async Task<IResult> HistoryAsync(HttpContext context, GatewayOptions options, MeterDirectory meters,
        AggregateQueries queries, TimeProvider time)
    {
        var query = new QueryReader(context.Request.Query);
        var (from, to, size, limit) = AggregatePaging.Read(query, options, time.GetUtcNow(), WindowSize.FifteenMinutes);
        var (meterId, problem) = await ResolveMeterAsync(context, query, meters, ReadMeterId(query));
        if (problem is not null)
            return problem;
        return GatewayJson.Ok(await AggregatePaging.ReadAsync(queries, meterId!, size, from, to, limit, context.RequestAborted));
    }

    private static async Task<IResult> LatestAsync(HttpContext context, MeterDirectory meters, AggregateQueries queries)
    {
        var query = new QueryReader(context.Request.Query);
        var (meterId, problem) = await ResolveMeterAsync(context, query, meters, ReadMeterId(query));
        if (problem is not null)
            return problem;
        var ct = context.RequestAborted;

        return GatewayJson.Ok(new LatestWindows(
            meterId!,
            await ReadLatestAsync(meters, queries, meterId!, WindowSize.OneMinute, ct),
            await ReadLatestAsync(meters, queries, meterId!, WindowSize.FifteenMinutes, ct)));
    }

    private static async Task<WindowAggregate?> ReadLatestAsync(MeterDirectory meters, AggregateQueries queries, string meterId, WindowSize size,
        CancellationToken ct)
    {
        if (await meters.LatestWindowStartAsync(meterId, size, ct) is not { } start)
            return null;
        var rows = await queries.GetMeterAggregatesAsync(meterId, size, start, start + size.Duration(), 1, ct);
        return rows.Count > 0 ? rows[0] : null;
    }

    /// <summary>The query's meter_id, with which a USER picks one of their meters (a malformed one is an error of the query).</summary>
    internal static string? ReadMeterId(QueryReader query)
    {
        var requested = query.Raw("meter_id");
        if (requested is { Length: > 0 } && !Identifiers.IsMeterId(requested))
            query.Error("meter_id", Identifiers.MeterIdRule);
        return requested;
    }

    /// <summary>
    /// The caller's meter once <paramref name="query"/> is free of errors (else its problem): the one named by
    /// <paramref name="requested"/> if it is theirs, else their first.
    /// </summary>
    internal static async Task<(string? MeterId, IResult? Problem)> ResolveMeterAsync(HttpContext context, QueryReader query,
        MeterDirectory meters, string? requested)
    {
        if (query.HasErrors)
            return (null, query.Problem());
        var ct = context.RequestAborted;
        var user = CurrentUser.From(context.User);
        var owned = await meters.MetersOfAsync(user.Id, ct);
        if (owned.Count == 0)
            return (null, Problems.NotFound("No meter assigned", "No meter is assigned to this account yet; ask an administrator."));
        if (string.IsNullOrEmpty(requested))
            return (owned[0], null);
        // Another user's meter answers exactly like a meter that does not exist.
        return owned.Contains(requested, StringComparer.Ordinal)
            ? (requested, null)
            : (null, Problems.NotFound("Meter not found", $"No meter '{requested}' is assigned to this account."));
    }
}

/// <summary>The newest stored window of each size of the user's meter (null when none yet).</summary>
public sealed record LatestWindows(
    string MeterId,
    [property: System.Text.Json.Serialization.JsonPropertyName("latest_1m")] WindowAggregate? Latest1m,
    [property: System.Text.Json.Serialization.JsonPropertyName("latest_15m")] WindowAggregate? Latest15m);
