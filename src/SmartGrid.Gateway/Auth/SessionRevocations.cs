using Microsoft.Extensions.Caching.Memory;
using SmartGrid.Gateway.Http;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Auth;

/// <summary>
/// Ends sessions and answers, on every authenticated request, whether a token's session (its
/// <c>sid</c>) was ended. PostgreSQL (the sessions table) is the truth; Redis
/// <c>revoked:session:{sid}</c> (kept as long as an access token can live) answers the per-request
/// check, and this process remembers answers briefly: a revoked session for good, a live one for
/// <see cref="GatewayOptions.RevocationCacheTtl"/> (how late another node may learn of a revocation;
/// the revoking node knows at once). When Redis fails the check asks PostgreSQL; a timed-out Redis
/// is reported to <see cref="RedisGuard"/>, which then skips it for everyone, so an outage costs each
/// request one indexed query, not a timeout.
/// </summary>
public sealed class SessionRevocations(
    RedisGuard redis, AccountStore accounts, GatewayOptions options, ILogger<SessionRevocations> log) : IDisposable
{
    private readonly MemoryCache _known = new(new MemoryCacheOptions { SizeLimit = 100_000 });

    /// <summary>The longest an access token of a session can still be presented.</summary>
    private TimeSpan TokenLife => options.AccessTokenLifetime + options.ClockSkew;

    public async ValueTask<bool> IsRevokedAsync(Guid sessionId, CancellationToken ct)
    {
        if (_known.TryGetValue(sessionId, out bool cached))
            return cached;
        bool revoked;
        try
        {
            revoked = await redis.IsSessionRevokedAsync(sessionId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            redis.Unavailable(e);
            GatewayMetrics.RevocationFallbacks.Add(1);
            revoked = await accounts.IsSessionRevokedAsync(sessionId, ct);
        }
        Remember(sessionId, revoked);
        return revoked;
    }

    /// <summary>Ends one session (logout, refresh-token reuse); the caller has revoked it in PostgreSQL.</summary>
    public Task RevokedAsync(Guid sessionId, RevokeReason reason) => PublishAsync([sessionId], reason);

    /// <summary>Ends every session of the user (role change, password change): their tokens stop working at once.</summary>
    public async Task RevokeUserAsync(Guid userId, RevokeReason reason, DateTimeOffset now, CancellationToken ct) =>
        await PublishAsync(await accounts.RevokeUserSessionsAsync(userId, reason, now, ct), reason);

    private async Task PublishAsync(IReadOnlyCollection<Guid> sessions, RevokeReason reason)
    {
        if (sessions.Count == 0)
            return;
        GatewayMetrics.SessionsRevoked.Add(sessions.Count, new KeyValuePair<string, object?>("reason", reason.ToWireName()));
        foreach (var session in sessions)
            Remember(session, revoked: true);
        try
        {
            await redis.MarkSessionsRevokedAsync(sessions, TokenLife);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            redis.Failed(e);
            // PostgreSQL holds the revocation; RevocationMirror copies it into Redis once Redis answers again.
            log.RevocationNotMirrored(e, sessions.Count, reason.ToWireName());
        }
    }

    private void Remember(Guid sessionId, bool revoked) =>
        _known.Set(sessionId, revoked, new MemoryCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = revoked ? TokenLife : options.RevocationCacheTtl,
            Size = 1,
        });

    public void Dispose() => _known.Dispose();
}
