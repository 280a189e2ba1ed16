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
            log.LogWarning(e, "Rate limit not checked for {Endpoint}: Redis unavailable", endpoint);
        }
        return await next(context);
    }
}

/// <summary>
/// Anonymous routes: per-IP limits on registration and codes, and failed-login counters per
/// account and per IP (<see cref="GatewayOptions.LoginFailureWindow"/>).
/// </summary>
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
            log.LogWarning(e, "Rate limit not checked for {Endpoint}: Redis unavailable", endpoint);
            return null;
        }
    }

    /// <summary>How long until a login may be tried again, or null when neither the account nor the IP is locked out.</summary>
    public async Task<TimeSpan?> LockedOutAsync(string email, string ip)
    {
        try
        {
            var (account, accountReset) = await redis.PeekAsync(AccountKey(email));
            if (account >= options.LoginMaxFailuresPerAccount)
                return accountReset;
            var (address, addressReset) = await redis.PeekAsync(IpKey(ip));
            return address >= options.LoginMaxFailuresPerIp ? addressReset : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning(e, "Login throttle not checked: Redis unavailable");
            return null;
        }
    }

    public async Task RecordFailureAsync(string email, string ip)
    {
        try
        {
            await redis.HitAsync(AccountKey(email), options.LoginFailureWindow);
            await redis.HitAsync(IpKey(ip), options.LoginFailureWindow);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning(e, "Failed login not counted: Redis unavailable");
        }
    }

    public async Task ResetAccountAsync(string email)
    {
        try
        {
            await redis.DeleteAsync(AccountKey(email));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning(e, "Failed-login counter not reset: Redis unavailable");
        }
    }

    private static string AccountKey(string email) => $"login:fail:account:{email}";

    private static string IpKey(string ip) => $"login:fail:ip:{ip}";
}
