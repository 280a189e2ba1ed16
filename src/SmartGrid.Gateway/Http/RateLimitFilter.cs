using System.Globalization;
using SmartGrid.Gateway.Auth;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// Per user and endpoint: at most <see cref="GatewayOptions.RateLimitPerMinute"/> requests in a
/// fixed one-minute window counted in Redis <c>ratelimit:{user_id}:{endpoint}</c>; beyond it 429
/// with Retry-After. When Redis is unreachable <see cref="RedisGuard"/> counts in this process instead,
/// at once: the limit protects the back end, it must neither vanish nor become the outage.
/// </summary>
internal sealed class RateLimitFilter(RedisGuard redis, GatewayOptions options, ILogger<RateLimitFilter> log) : IEndpointFilter
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var user = http.User.FindFirst(GatewayClaims.Subject)?.Value;
        var endpoint = http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
        if (user is null || endpoint is null)
            return await next(context);

        try
        {
            var (count, resetIn) = await redis.HitAsync($"ratelimit:{user}:{endpoint}", Window);
            var limit = options.RateLimitPerMinute;
            http.Response.Headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["X-RateLimit-Remaining"] = Math.Max(0, limit - count).ToString(CultureInfo.InvariantCulture);
            if (count > limit)
                return Problems.TooManyRequests(resetIn, $"At most {limit} requests per minute to {endpoint}; retry after the window resets.");
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.RateLimitNotChecked(e, endpoint);
        }
        return await next(context);
    }
}

/// <summary>Anonymous routes: per-IP limits on registration and codes (failed logins: <see cref="LoginLockout"/>).</summary>
public sealed class LoginThrottle(RedisGuard redis, GatewayOptions options, ILogger<LoginThrottle> log)
{
    /// <summary>429 when this IP exceeded the per-minute limit of the endpoint, else null.</summary>
    public async Task<IResult?> AnonymousHitAsync(HttpContext context, string endpoint)
    {
        var ip = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        try
        {
            var (count, resetIn) = await redis.HitAsync($"ratelimit:ip:{ip}:{endpoint}", RateLimitFilter.Window);
            return count > options.AnonymousRateLimitPerMinute
                ? Problems.TooManyRequests(resetIn, $"At most {options.AnonymousRateLimitPerMinute} requests per minute to {endpoint} from one address.")
                : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.RateLimitNotChecked(e, endpoint);
            return null;
        }
    }
}

/// <summary>Route groups of signed-in callers: the role check and the per-user rate limit are joined here, so no group gets one without the other.</summary>
internal static class SignedInGroups
{
    /// <summary>
    /// Routes under <paramref name="prefix"/>, shown under <paramref name="tag"/>, for callers of <paramref name="policy"/> (null: any
    /// signed-in caller), each limited per user by <see cref="RateLimitFilter"/>.
    /// </summary>
    public static RouteGroupBuilder MapSignedInGroup(this RouteGroupBuilder api, string prefix, string tag, string? policy = null)
    {
        var group = api.MapGroup(prefix).WithTags(tag);
        _ = policy is null ? group.RequireAuthorization() : group.RequireAuthorization(policy);
        group.AddEndpointFilter<RateLimitFilter>();
        return group;
    }
}
