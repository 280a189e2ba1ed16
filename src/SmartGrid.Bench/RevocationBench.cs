using Microsoft.Extensions.Logging.Abstractions;
using SmartGrid.Gateway;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Services.Hosting;
using SmartGrid.Storage;
using SmartGrid.Storage.Accounts;

namespace SmartGrid.Bench;

/// <summary>
/// `bench revocation`: what the per-request session check (<see cref="SessionRevocations"/>) costs,
/// on a fresh database and the Redis of ConnectionStrings__Redis: answered from the process's
/// cache, from Redis (a session not seen before), and from PostgreSQL (Redis unreachable).
/// Sequential checks: one request's added latency, not the node's throughput.
/// </summary>
internal static class RevocationBench
{
    internal static readonly Option<int> Cached = BenchOptions.Int("--cached", 1_000_000, "checks answered by the process cache");
    internal static readonly Option<int> Uncached = BenchOptions.Int("--uncached", 20_000, "checks answered by Redis");
    internal static readonly Option<int> Fallback = BenchOptions.Int("--fallback", 5_000, "checks answered by PostgreSQL (Redis down)");

    internal static async Task<int> RunAsync(int cached, int uncached, int fallback)
    {
        await using var database = await BenchDatabase.CreateMigratedAsync();
        await using var storage = StorageServices.Create(database.ConnectionString);
        var accounts = new AccountStore(storage.DataSource);
        var gateway = new GatewayOptions { RedisKeyPrefix = $"bench:{Guid.NewGuid():N}:" };
        var redisAddress = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") is { Length: > 0 } r ? r : "127.0.0.1:6379";
        // Connected as the node connects: the unreachable one fails each command at once, as a killed Redis does.
        using var redis = RedisConnection.Connect(redisAddress);
        using var deadRedis = RedisConnection.Connect($"127.0.0.1:{FreePort.Next()}");
        using var live = new SessionRevocations(new RedisGuard(redis, gateway, NullLogger<RedisGuard>.Instance), accounts, gateway,
            NullLogger<SessionRevocations>.Instance);
        using var degraded = new SessionRevocations(new RedisGuard(deadRedis, gateway, NullLogger<RedisGuard>.Instance), accounts, gateway,
            NullLogger<SessionRevocations>.Instance);
        Console.WriteLine($"revocation bench: database {database.Name}, Redis {redisAddress}; sequential checks of one session id each");

        var session = Guid.NewGuid();
        await live.IsRevokedAsync(session, default);
        Report("cached (in-process, live session)", cached, await TimeAsync(cached, _ => live.IsRevokedAsync(session, default)));
        Report("Redis (session not seen before)", uncached, await TimeAsync(uncached, _ => live.IsRevokedAsync(Guid.NewGuid(), default)));
        Report("PostgreSQL (Redis unreachable)", fallback, await TimeAsync(fallback, _ => degraded.IsRevokedAsync(Guid.NewGuid(), default)));
        return 0;
    }

    private static async Task<TimeSpan> TimeAsync(int count, Func<int, ValueTask<bool>> check)
    {
        for (var i = 0; i < Math.Min(count, 1_000); i++)
            await check(i);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
            await check(i);
        return clock.Elapsed;
    }

    private static void Report(string path, int count, TimeSpan elapsed)
    {
        var ns = elapsed.TotalNanoseconds / count;
        Console.WriteLine($"  {path,-36} {count,10:N0} checks  {(ns < 10_000 ? $"{ns,10:N0} ns" : $"{ns / 1000,10:N1} µs")} per check");
    }
}
