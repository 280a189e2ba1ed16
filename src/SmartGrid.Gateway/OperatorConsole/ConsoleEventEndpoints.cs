using System.Text;
using Microsoft.AspNetCore.Mvc;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;
using SmartGrid.Storage.Meters;

namespace SmartGrid.Gateway.OperatorConsole;

/// <summary>
/// <c>GET /api/v1/console/events</c>: server-sent events for the console, fed by <see cref="ConsoleEventFeed"/>.
/// Authenticated like every route (a bearer token: the page reads the stream with fetch, so the token never goes
/// into a URL), and filtered by role: operators get the windows, alerts and prices of their regions, admins of
/// every region, a USER only the price changes of their own meters' regions. The stream ends when the access token
/// expires, so a revoked session or a changed role stops getting events at the latest then; the page reconnects
/// with its refreshed token.
/// </summary>
internal static class ConsoleEventEndpoints
{
    public const string Route = "/console/events";
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static void Map(RouteGroupBuilder api) =>
        api.MapGet(Route, StreamAsync).WithTags("console").WithName("console.events").RequireAuthorization().AddEndpointFilter<RateLimitFilter>()
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
            .WithSummary("Live events (server-sent): region_window, alert, tariff, filtered by the caller's role and regions");

    private static async Task<IResult> StreamAsync(HttpContext context, [FromServices] ConsoleEventFeed? feed, MeterDirectory meters,
        MeterRegistry registry, TimeProvider time)
    {
        // A gateway hosted without Kafka (the gateway specs' hosts) has no feed.
        if (feed is null)
            return Problems.ServiceUnavailable(TimeSpan.FromSeconds(30), "This gateway has no live event feed.", "kafka");
        var user = CurrentUser.From(context.User);
        var allowed = await AllowedAsync(user, meters, registry, context.RequestAborted);
        var untilExpiry = user.ExpiresAt - time.GetUtcNow();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        ended.CancelAfter(untilExpiry > TimeSpan.Zero ? untilExpiry : TimeSpan.Zero);
        var ct = ended.Token;

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        // Reverse proxies (nginx) would otherwise buffer the stream and the 2 s promise with it.
        response.Headers["X-Accel-Buffering"] = "no";
        var reader = feed.Subscribe(ct);
        try
        {
            await WriteAsync(response, "ready", $$"""{"role":"{{user.Role}}"}""", ct);
            while (!ct.IsCancellationRequested)
            {
                using var beat = CancellationTokenSource.CreateLinkedTokenSource(ct);
                beat.CancelAfter(Heartbeat);
                try
                {
                    var e = await reader.ReadAsync(beat.Token);
                    if (allowed(e))
                        await WriteAsync(response, e.Kind, e.Json, ct);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // A comment line keeps proxies and the browser from taking a quiet grid for a dead connection.
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return Results.Empty;
    }

    private static async Task<Func<ConsoleEvent, bool>> AllowedAsync(CurrentUser user, MeterDirectory meters, MeterRegistry registry,
        CancellationToken ct)
    {
        if (user.Role is Roles.Operator or Roles.Admin)
            return e => e.Region is null ? user.IsAdmin : user.MayOperate(e.Region);
        var regions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var meter in await meters.MetersOfAsync(user.Id, ct))
        {
            if (await registry.GetRegionAsync(meter, ct) is { } region)
                regions.Add(region);
        }
        return e => e.Kind == "tariff" && e.Region is not null && regions.Contains(e.Region);
    }

    private static async Task WriteAsync(HttpResponse response, string kind, string json, CancellationToken ct)
    {
        // The topics' JSON is one line; SSE needs every line of a multi-line value prefixed anyway.
        var data = new StringBuilder();
        foreach (var line in json.Split('\n'))
            data.Append("data: ").Append(line.TrimEnd('\r')).Append('\n');
        await response.WriteAsync($"event: {kind}\n{data}\n", ct);
        await response.Body.FlushAsync(ct);
    }
}
