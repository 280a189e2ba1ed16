using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using SmartGrid.Gateway.Auth;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// How the gateway behaves while PostgreSQL is unavailable. Every successful read (GET, 200) is
/// also kept in Redis (<c>stale:{endpoint:user}:{digest of path and query}</c>, for
/// <see cref="GatewayOptions.StaleReadTtl"/>; the newest <see cref="EntriesPerUserAndEndpoint"/>
/// per user and endpoint, each at most <see cref="MaxBodyBytes"/>, so clients paging through
/// time cannot fill Redis); when PostgreSQL cannot be reached the read is
/// answered from there, marked <c>X-SmartGrid-Stale: true</c> with <c>X-SmartGrid-Cached-At</c>,
/// and writes answer 503 at once. A circuit breaker (Polly) stops trying PostgreSQL for
/// <see cref="GatewayOptions.DatabaseBreakDuration"/> after failures, so requests do not each
/// wait for a connect timeout while it is down.
/// </summary>
internal sealed class DatabaseOutageFilter : IEndpointFilter
{
    public const string StaleHeader = "X-SmartGrid-Stale";
    public const string CachedAtHeader = "X-SmartGrid-Cached-At";
    public const int EntriesPerUserAndEndpoint = 16;
    public const int MaxBodyBytes = 256 * 1024;

    // Stores one answer and keeps only the newest ARGV[5] of its (endpoint, user) index.
    private const string StoreScript =
        """
        redis.call('HSET', KEYS[2], 'body', ARGV[1], 'cached_at', ARGV[2])
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        redis.call('ZADD', KEYS[1], ARGV[4], KEYS[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
        if excess > 0 then
          local old = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
          redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
          for _, key in ipairs(old) do redis.call('DEL', key) end
        end
        return excess
        """;

    private readonly DatabaseBreaker _breaker;
    private readonly RedisGuard _redis;
    private readonly GatewayOptions _options;
    private readonly ILogger<DatabaseOutageFilter> _log;

    public DatabaseOutageFilter(DatabaseBreaker breaker, RedisGuard redis, GatewayOptions options,
        ILogger<DatabaseOutageFilter> log)
    {
        _breaker = breaker;
        _redis = redis;
        _options = options;
        _log = log;
    }

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = HttpMethods.IsGet(http.Request.Method) ? KeyOf(http) : null;
        object? result;
        try
        {
            result = await _breaker.Pipeline.ExecuteAsync(static async (state, _) => await state.next(state.context), (next, context), http.RequestAborted);
        }
        catch (Exception e) when (e is BrokenCircuitException || DatabaseBreaker.IsDatabaseUnavailable(e))
        {
            if (e is not BrokenCircuitException)
                _log.DatabaseUnavailableForRequest(e, http.Request.Method, http.Request.Path);
            if (key is not null && await ReadStaleAsync(key) is { } stale)
                return stale;
            var retryAfter = e is BrokenCircuitException { RetryAfter: { } after } ? after : _options.DatabaseBreakDuration;
            // circuit-open: the database was not even tried (it failed moments ago).
            return Problems.ServiceUnavailable(retryAfter, key is null
                ? "The database is unavailable; nothing was changed. Retry later."
                : "The database is unavailable and no earlier answer to this request is cached. Retry later.",
                e is BrokenCircuitException ? "circuit-open" : "unreachable");
        }

        if (key is not null && result is IValueHttpResult { Value: { } value } and IStatusCodeHttpResult { StatusCode: null or StatusCodes.Status200OK })
        {
            var json = JsonSerializer.Serialize(value, value.GetType(), GatewayJson.Options);
            await StoreAsync(key, json);
            return Results.Content(json, "application/json; charset=utf-8");
        }
        return result;
    }

    /// <summary>Per endpoint and caller (answers depend on who asks: their meter, their regions); the braces keep both keys in one cluster slot.</summary>
    private StaleKey? KeyOf(HttpContext http)
    {
        var endpoint = http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
        if (endpoint is null)
            return null;
        var user = http.User.FindFirst(GatewayClaims.Subject)?.Value ?? "anonymous";
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(http.Request.Path.Value + http.Request.QueryString.Value));
        var index = _redis.Key($"stale:{{{endpoint}:{user}}}");
        return new StaleKey(index, $"{index}:{Convert.ToHexStringLower(digest, 0, 16)}");
    }

    private async Task StoreAsync(StaleKey key, string json)
    {
        if (Encoding.UTF8.GetByteCount(json) > MaxBodyBytes)
            return;
        try
        {
            var now = DateTimeOffset.UtcNow;
            await _redis.Database().ScriptEvaluateAsync(StoreScript, [key.Index, key.Entry],
                [json, now.ToString("O", CultureInfo.InvariantCulture), (long)_options.StaleReadTtl.TotalMilliseconds, now.ToUnixTimeMilliseconds(),
                 EntriesPerUserAndEndpoint]);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.Failed(e);
            _log.StaleAnswerNotKept(e);
        }
    }

    private sealed record StaleKey(string Index, string Entry);

    private async Task<IResult?> ReadStaleAsync(StaleKey key)
    {
        try
        {
            var fields = await _redis.Database().HashGetAsync(key.Entry, ["body", "cached_at"]);
            if (fields[0].IsNull || fields[1].IsNull)
                return null;
            return new StaleResult(fields[0].ToString(), fields[1].ToString());
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.Failed(e);
            _log.NoStaleAnswer(e);
            return null;
        }
    }

    private sealed class StaleResult(string json, string cachedAt) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var headers = httpContext.Response.Headers;
            headers[StaleHeader] = "true";
            headers[CachedAtHeader] = cachedAt;
            if (DateTimeOffset.TryParse(cachedAt, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at))
                headers.Age = Math.Max(0, (long)(DateTimeOffset.UtcNow - at).TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return Results.Content(json, "application/json; charset=utf-8").ExecuteAsync(httpContext);
        }
    }
}

/// <summary>One circuit breaker on PostgreSQL for the whole gateway (all routes share the database).</summary>
public sealed class DatabaseBreaker
{
    public DatabaseBreaker(GatewayOptions options, ILogger<DatabaseBreaker> log)
    {
        Pipeline = new ResiliencePipelineBuilder().AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsDatabaseUnavailable),
            FailureRatio = 0.5,
            MinimumThroughput = 2,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = options.DatabaseBreakDuration,
            OnOpened = args =>
            {
                log.DatabaseCircuitOpened(args.Outcome.Exception, args.BreakDuration);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                log.DatabaseCircuitClosed();
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>PostgreSQL cannot be reached or refuses work (connection failures, shutdown, too many connections); not a bad statement.</summary>
    public static bool IsDatabaseUnavailable(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal)
                                || pg.SqlState.StartsWith("57P", StringComparison.Ordinal)
                                || pg.SqlState.StartsWith("53", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
