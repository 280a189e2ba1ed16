using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace SmartGrid.Storage;

/// <summary>
/// The one way the node connects to Redis. Redis is a cache and a counter store here, never the only copy of
/// anything a request needs, so a Redis that is down or slow must cost a request milliseconds, not seconds:
/// every command fails at once while the connection is down (<see cref="BacklogPolicy.FailFast"/>, instead of
/// queueing until Redis returns), a command on a live but stalled connection gives up after
/// <see cref="CommandTimeoutMs"/>, and the start does not wait for Redis (abortConnect=false; the multiplexer
/// reconnects in the background). Callers catch <see cref="RedisException"/> and <see cref="TimeoutException"/>
/// and use their fallback. Settings in the connection string (connectTimeout=…, asyncTimeout=…) win.
/// </summary>
public static class RedisConnection
{
    public const int ConnectTimeoutMs = 1_000;
    /// <summary>A local Redis answers in well under a millisecond; this is a stall, not a slow answer.</summary>
    public const int CommandTimeoutMs = 250;

    public static ConfigurationOptions Options(string connectionString)
    {
        var options = ConfigurationOptions.Parse(
            $"connectTimeout={ConnectTimeoutMs},syncTimeout={CommandTimeoutMs},asyncTimeout={CommandTimeoutMs},abortConnect=false,{connectionString}");
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }

    public static IConnectionMultiplexer Connect(string connectionString) => ConnectionMultiplexer.Connect(Options(connectionString));

    /// <summary>ConnectionStrings:Redis, which must be set: there is no Redis a node may assume.</summary>
    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Redis") is { Length: > 0 } redis && !string.IsNullOrWhiteSpace(redis)
            ? redis
            : throw new InvalidOperationException("Configuration ConnectionStrings:Redis is not set (./build.sh services up exports it)");
}
