using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// The gateway's Redis keys (all under <see cref="GatewayOptions.RedisKeyPrefix"/>):
/// <c>ratelimit:{user_id}:{endpoint}</c> fixed one-minute windows, <c>login:fail:*</c> failed
/// login counters and <c>login:wait:*</c> waits, <c>revoked:session:{sid}</c> ended sessions and
/// <c>session:{id}</c>. Counters (<see cref="HitAsync"/>, <see cref="PeekAsync"/>) and marks
/// (<see cref="SetAsync"/>, <see cref="TimeToLiveAsync"/>, <see cref="DeleteAsync"/>) fall back to
/// this process's own windows while Redis cannot answer: limits then hold per gateway instance instead
/// of across all of them, which is weaker but is not "no limit", and costs no wait (see <c>RedisConnection</c>).
/// A Redis that accepts connections but does not answer (paused, overloaded, a network black hole)
/// would cost every call its full timeout: after a timed-out command the gateway skips Redis for
/// <see cref="SkipAfterTimeout"/> (<see cref="Database"/> fails at once), then tries it again.
/// </summary>
public sealed class RedisGuard(IConnectionMultiplexer redis, GatewayOptions options, ILogger<RedisGuard> log) : IDisposable
{
    public static readonly TimeSpan SkipAfterTimeout = TimeSpan.FromSeconds(5);

    private readonly LocalWindows _local = new();
    private long _warnedAt;
    private long _skipUntil;

    public void Dispose() => _local.Dispose();

    // INCR, and start the window's clock on the first hit; returns the count and the ms left.
    private const string CountScript =
        """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
        return {n, ttl}
        """;

    private IDatabase Db => Database();

    /// <summary>Database <paramref name="db"/>, or a <see cref="RedisSkippedException"/> at once while Redis is being skipped.</summary>
    public IDatabase Database(int db = -1) =>
        Environment.TickCount64 < Interlocked.Read(ref _skipUntil)
            ? throw new RedisSkippedException($"Redis skipped for {SkipAfterTimeout.TotalSeconds:0} s after a timed-out command")
            : redis.GetDatabase(db);

    /// <summary>Reported by every caller that caught a Redis failure: a timeout starts the skip.</summary>
    public void Failed(Exception e)
    {
        if (e is TimeoutException)
            Interlocked.Exchange(ref _skipUntil, Environment.TickCount64 + (long)SkipAfterTimeout.TotalMilliseconds);
    }

    public string Key(string suffix) => options.RedisKeyPrefix + suffix;

    /// <summary>Counts one hit in the window of <paramref name="key"/>; returns the count so far and the time until the window resets.</summary>
    public async Task<(long Count, TimeSpan ResetIn)> HitAsync(string key, TimeSpan window)
    {
        try
        {
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(CountScript, [Key(key)], [(long)window.TotalMilliseconds]))!;
            return ((long)result[0], TimeSpan.FromMilliseconds((long)result[1]));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Unavailable(e);
            return _local.Hit(key, window);
        }
    }

    /// <summary>The count in the window of <paramref name="key"/> and the time until it resets (0 when absent).</summary>
    public async Task<(long Count, TimeSpan ResetIn)> PeekAsync(string key)
    {
        try
        {
            var value = await Db.StringGetAsync(Key(key));
            if (value.IsNull)
                return (0, TimeSpan.Zero);
            var ttl = await Db.KeyTimeToLiveAsync(Key(key));
            return ((long)value, ttl ?? TimeSpan.Zero);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Unavailable(e);
            return _local.Peek(key);
        }
    }

    /// <summary>
    /// <see cref="Failed"/>, and a warning once a minute at most (an outage would otherwise log a line per request): for
    /// callers on every request whose fallback needs no line of its own.
    /// </summary>
    public void Unavailable(Exception e)
    {
        Failed(e);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _warnedAt);
        if ((last == 0 || now - last > 60_000) && Interlocked.CompareExchange(ref _warnedAt, now, last) == last)
            log.RedisUnavailable(e.Message);
    }

    /// <summary>Removes <paramref name="key"/> here and in Redis (a Redis failure leaves its copy to expire).</summary>
    public async Task DeleteAsync(string key)
    {
        _local.Remove(key);
        try
        {
            await Db.KeyDeleteAsync(Key(key));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Unavailable(e);
        }
    }

    /// <summary>Sets <paramref name="key"/> for <paramref name="ttl"/>; in this process while Redis cannot answer.</summary>
    public async Task SetAsync(string key, TimeSpan ttl)
    {
        try
        {
            await Db.StringSetAsync(Key(key), "1", ttl);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Unavailable(e);
            _local.Set(key, ttl);
        }
    }

    /// <summary>Time left of <paramref name="key"/>, or null when it does not exist; this process's copy while Redis cannot answer.</summary>
    public async Task<TimeSpan?> TimeToLiveAsync(string key)
    {
        try
        {
            return await Db.KeyTimeToLiveAsync(Key(key));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Unavailable(e);
            var (count, left) = _local.Peek(key);
            return count > 0 ? left : null;
        }
    }

    /// <summary>Marks the sessions ended for <paramref name="ttl"/> (as long as their access tokens can live), in one round trip.</summary>
    public Task MarkSessionsRevokedAsync(IReadOnlyCollection<Guid> sessionIds, TimeSpan ttl)
    {
        var batch = Db.CreateBatch();
        var writes = sessionIds.Select(id => batch.StringSetAsync(Key($"revoked:session:{id}"), "1", ttl)).ToArray();
        batch.Execute();
        return Task.WhenAll(writes);
    }

    public Task<bool> IsSessionRevokedAsync(Guid sessionId) => Db.KeyExistsAsync(Key($"revoked:session:{sessionId}"));

    public async Task PutSessionAsync(Guid sessionId, Guid userId, string role, TimeSpan ttl)
    {
        var key = Key($"session:{sessionId}");
        await Db.HashSetAsync(key, [new HashEntry("user_id", userId.ToString()), new HashEntry("role", role)]);
        await Db.KeyExpireAsync(key, ttl);
    }

    public Task DeleteSessionAsync(Guid sessionId) => Db.KeyDeleteAsync(Key($"session:{sessionId}"));
}

/// <summary>
/// Fixed windows in this process's memory, the stand-in for the Redis counters: at most <see cref="MaxKeys"/> keys (a new key
/// beyond that counts 1, failing open rather than growing without bound), each dropped when its window ends.
/// </summary>
internal sealed class LocalWindows : IDisposable
{
    public const int MaxKeys = 100_000;

    private readonly MemoryCache _windows = new(new MemoryCacheOptions { SizeLimit = MaxKeys });

    public void Dispose() => _windows.Dispose();

    private sealed class Window(DateTimeOffset end)
    {
        public long Count;
        public DateTimeOffset End { get; } = end;
    }

    public (long Count, TimeSpan ResetIn) Hit(string key, TimeSpan window)
    {
        var now = DateTimeOffset.UtcNow;
        var current = _windows.Get<Window>(key);
        if (current is null || current.End <= now)
        {
            lock (_windows)
            {
                // Two first hits at once must share one window, not each start their own.
                current = _windows.Get<Window>(key);
                if (current is null || current.End <= now)
                {
                    current = new Window(now + window);
                    _windows.Set(key, current, new MemoryCacheEntryOptions { AbsoluteExpiration = current.End, Size = 1 });
                }
            }
        }
        return (Interlocked.Increment(ref current.Count), current.End - now);
    }

    /// <summary>Starts <paramref name="key"/> afresh: a count of 1 that ends after <paramref name="ttl"/>.</summary>
    public void Set(string key, TimeSpan ttl)
    {
        var window = new Window(DateTimeOffset.UtcNow + ttl) { Count = 1 };
        _windows.Set(key, window, new MemoryCacheEntryOptions { AbsoluteExpiration = window.End, Size = 1 });
    }

    public void Remove(string key) => _windows.Remove(key);

    public (long Count, TimeSpan ResetIn) Peek(string key)
    {
        var now = DateTimeOffset.UtcNow;
        return _windows.Get<Window>(key) is { } w && w.End > now ? (Interlocked.Read(ref w.Count), w.End - now) : (0, TimeSpan.Zero);
    }
}

/// <summary>Redis was not asked: it timed out moments ago. A <see cref="RedisException"/>, so every fallback applies.</summary>
public sealed class RedisSkippedException(string message) : RedisException(message);
