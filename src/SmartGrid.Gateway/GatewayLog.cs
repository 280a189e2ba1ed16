using Microsoft.Extensions.Logging;

namespace SmartGrid.Gateway;

/// <summary>The gateway's log lines, source-generated so a disabled level costs no formatting or boxing.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Tokens are signed with this installation's generated key ({File}); configure SmartGrid:Gateway:SigningKey outside Development")]
    public static partial void GeneratedSigningKey(this ILogger log, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refresh token reused after rotation: session {Session} of user {User} revoked")]
    public static partial void RefreshTokenReused(this ILogger log, Guid session, Guid user);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable; continuing with PostgreSQL state only")]
    public static partial void RedisUnavailableForAuth(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login to {Email} from {Address}: {Failures} failures, that address now waits {Delay}")]
    public static partial void LoginDelayed(this ILogger log, string email, string address, long failures, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Login to {Email} closed for the rest of the failure window: {Failures} failures from all addresses")]
    public static partial void AccountLoginsClosed(this ILogger log, string email, long failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Logins from {Address} closed for the rest of the failure window: {Failures} failures over all accounts")]
    public static partial void AddressLoginsClosed(this ILogger log, string address, long failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Purpose} message to user {User} by {Channel} not delivered")]
    public static partial void AccountMessageNotDelivered(this ILogger log, Exception exception, string purpose, Guid user, string channel);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Revocation mirror: PostgreSQL unavailable, next pass in {Interval}")]
    public static partial void RevocationMirrorDatabaseUnavailable(this ILogger log, Exception exception, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revocation of {Count} session(s) ({Reason}) not written to Redis")]
    public static partial void RevocationNotMirrored(this ILogger log, Exception exception, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert counts not read from Redis; counting in PostgreSQL")]
    public static partial void AlertCountsFromDatabase(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL unavailable for {Method} {Path}")]
    public static partial void DatabaseUnavailableForRequest(this ILogger log, Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Answer not kept for stale reads: Redis unavailable")]
    public static partial void StaleAnswerNotKept(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No stale answer: Redis unavailable too")]
    public static partial void NoStaleAnswer(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL unavailable: reads served from Redis, writes refused for {Break}")]
    public static partial void DatabaseCircuitOpened(this ILogger log, Exception? exception, TimeSpan @break);

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL reachable again")]
    public static partial void DatabaseCircuitClosed(this ILogger log);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit not checked for {Endpoint}: Redis unavailable")]
    public static partial void RateLimitNotChecked(this ILogger log, Exception exception, string? endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unavailable ({Error}): rate limits and failed-login counters are kept in this process, session revocations read from PostgreSQL, until it answers")]
    public static partial void RedisUnavailable(this ILogger log, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Console event feed reads {Count} partitions")]
    public static partial void ConsoleFeedAssigned(this ILogger log, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Console event feed: {Reason}")]
    public static partial void ConsoleFeedConsumeFailed(this ILogger log, Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No console pages at {Root}: the gateway serves its API only")]
    public static partial void NoConsolePages(this ILogger log, string root);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo accounts {User}, {Operator}, {Admin} use the default password '{Password}' (set {Setting} to change it)")]
    public static partial void DemoDefaultPassword(this ILogger log, string user, string @operator, string admin, string password, string setting);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo accounts ready; meter {Meter} for {User}: {Outcome}")]
    public static partial void DemoAccountsReady(this ILogger log, string meter, string user, Storage.Meters.AssignOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Override {Override} ({Action}) not published to {Topic}; the TariffManager applies the stored row at its next check")]
    public static partial void OverrideNotPublished(this ILogger log, Exception exception, Guid? @override, string? action, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tariff of {Region} not read from Redis; reading PostgreSQL")]
    public static partial void TariffFromDatabase(this ILogger log, Exception exception, string region);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tariff of {Region} not cached: Redis unavailable")]
    public static partial void TariffNotCached(this ILogger log, Exception exception, string region);
}
