using SmartGrid.Gateway.Http;
using StackExchange.Redis;

namespace SmartGrid.Gateway.Auth;

/// <summary>
/// Copies the sessions PostgreSQL says were ended into Redis <c>revoked:session:{sid}</c>. A revocation
/// made while Redis was down reached only PostgreSQL, and a node whose Redis works asks Redis, not
/// PostgreSQL: without this copy that node would accept the ended session's tokens until they expire.
/// Every gateway node runs it; writing a key twice is harmless, so no node has to own the job.
/// </summary>
public sealed class RevocationMirror(
    AccountStore accounts, RedisGuard redis, GatewayOptions options, TimeProvider time, ILogger<RevocationMirror> log) : BackgroundService
{
    // Revocation times come from the revoking node's clock and commit a little after they are taken:
    // look back this much past the newest one copied, so a row that committed late is not passed over.
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    private TimeSpan TokenLife => options.AccessTokenLifetime + options.ClockSkew;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Older revocations matter only while one of their access tokens can still be presented.
        var copiedUpTo = time.GetUtcNow() - TokenLife;
        using var timer = new PeriodicTimer(options.RevocationMirrorInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                copiedUpTo = await CopyAsync(copiedUpTo, stoppingToken);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                redis.Unavailable(e); // copied on the first pass after Redis is back
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException && !stoppingToken.IsCancellationRequested)
            {
                log.RevocationMirrorDatabaseUnavailable(e, options.RevocationMirrorInterval);
            }
        }
    }

    /// <summary>One pass: returns the newest revocation time copied (or <paramref name="copiedUpTo"/> when none was new).</summary>
    internal async Task<DateTimeOffset> CopyAsync(DateTimeOffset copiedUpTo, CancellationToken ct)
    {
        var floor = time.GetUtcNow() - TokenLife;
        var since = copiedUpTo - Overlap < floor ? floor : copiedUpTo - Overlap;
        var ended = await accounts.SessionsRevokedSinceAsync(since, ct);
        if (ended.Count == 0)
            return copiedUpTo;
        await redis.MarkSessionsRevokedAsync(ended.Select(s => s.Session).ToArray(), TokenLife);
        var newest = ended[^1].RevokedAt;
        return newest > copiedUpTo ? newest : copiedUpTo;
    }
}
