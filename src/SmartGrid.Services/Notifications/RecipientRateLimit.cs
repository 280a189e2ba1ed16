using StackExchange.Redis;

namespace SmartGrid.Services.Notifications;

/// <summary>
/// At most <see cref="MaxPerHour"/> notifications per recipient and channel in any hour, so a
/// flapping alert cannot flood a user. The count lives in Redis (notify:rate:{user}:{channel}, a
/// sorted set of the idempotency keys let through, scored by time) so it holds across nodes and a
/// singleton handover. The window slides: no burst of twice the limit across an hour boundary.
/// A delivery already let through (a redelivered event, or one whose owner stopped before sending)
/// is let through again without taking a second slot.
/// </summary>
public sealed class RecipientRateLimit
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    // One script: the trim, the check and the add are atomic, so two nodes briefly both
    // believing they own the singleton cannot together exceed the limit.
    private const string TakeScript = """
        local window_start = tonumber(ARGV[1]) - tonumber(ARGV[3])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', window_start)
        if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    private readonly IDatabase _redis;
    private readonly RedisKeyspace _keys;

    public RecipientRateLimit(IConnectionMultiplexer redis, RedisKeyspace keys, int maxPerHour)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHour, 1);
        _redis = redis.GetDatabase(keys.Database);
        _keys = keys;
        MaxPerHour = maxPerHour;
    }

    public int MaxPerHour { get; }

    /// <summary>Whether the delivery <paramref name="idempotencyKey"/> to <paramref name="user"/> on <paramref name="channel"/> may go at <paramref name="now"/> (it then counts).</summary>
    public async Task<bool> TryTakeAsync(Guid user, string channel, string idempotencyKey, DateTimeOffset now)
    {
        var result = await _redis.ScriptEvaluateAsync(TakeScript, [_keys.NotificationRate(user, channel)],
            [now.ToUnixTimeMilliseconds(), MaxPerHour, (long)Window.TotalMilliseconds, idempotencyKey]);
        return (long)result == 1;
    }
}
