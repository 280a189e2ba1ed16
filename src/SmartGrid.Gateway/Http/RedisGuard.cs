using StackExchange.Redis;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// The gateway's Redis keys (all under <see cref="GatewayOptions.RedisKeyPrefix"/>):
/// <c>ratelimit:{user_id}:{endpoint}</c> fixed one-minute windows, <c>login:fail:*</c> failed
/// login counters, <c>revoked:session:{sid}</c> ended sessions and <c>session:{id}</c>.
/// </summary>
public sealed class RedisGuard(IConnectionMultiplexer redis, GatewayOptions options)
{
    // INCR, and start the window's clock on the first hit; returns the count and the ms left.
    private const string CountScript =
        """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
        return {n, ttl}
        """;

    private IDatabase Db => redis.GetDatabase();

    public string Key(string suffix) => options.RedisKeyPrefix + suffix;

    /// <summary>Counts one hit in the window of <paramref name="key"/>; returns the count so far and the time until the window resets.</summary>
    public async Task<(long Count, TimeSpan ResetIn)> HitAsync(string key, TimeSpan window)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(CountScript, [Key(key)], [(long)window.TotalMilliseconds]))!;
        return ((long)result[0], TimeSpan.FromMilliseconds((long)result[1]));
    }

    /// <summary>The count in the window of <paramref name="key"/> and the time until it resets (0 when absent).</summary>
    public async Task<(long Count, TimeSpan ResetIn)> PeekAsync(string key)
    {
        var value = await Db.StringGetAsync(Key(key));
        if (value.IsNull)
            return (0, TimeSpan.Zero);
        var ttl = await Db.KeyTimeToLiveAsync(Key(key));
        return ((long)value, ttl ?? TimeSpan.Zero);
    }

    public Task DeleteAsync(string key) => Db.KeyDeleteAsync(Key(key));

    public Task SetAsync(string key, TimeSpan ttl) => Db.StringSetAsync(Key(key), "1", ttl);

    /// <summary>Time left of <paramref name="key"/>, or null when it does not exist.</summary>
    public Task<TimeSpan?> TimeToLiveAsync(string key) => Db.KeyTimeToLiveAsync(Key(key));

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
