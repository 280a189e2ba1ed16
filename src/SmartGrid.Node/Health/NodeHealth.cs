using Akka.Actor;
using Akka.Cluster;
using Confluent.Kafka;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using SmartGrid.Kafka;
using SmartGrid.Node.Management;
using StackExchange.Redis;

namespace SmartGrid.Node.Health;

/// <summary>
/// /health/live (the process answers) and /health/ready (PostgreSQL, Kafka and this node being an
/// Up cluster member; Redis down makes it Degraded, still 200), on every node, for Kubernetes probes
/// and load balancers.
/// </summary>
public static class NodeHealth
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddNodeHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<PostgresCheck>("postgres", tags: [ReadyTag])
            .AddCheck<RedisCheck>("redis", tags: [ReadyTag])
            .AddCheck<KafkaCheck>("kafka", tags: [ReadyTag])
            .AddCheck<ClusterCheck>("cluster", tags: [ReadyTag]);
        return services;
    }

    public static WebApplication MapNodeHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = WriteJson,
        });
        return app;
    }

    /// <summary>
    /// Ready or not to anyone (a load balancer needs no more); each check's status and why only with the management
    /// token: reasons name hosts, ports and the node's Akka address, which are a map for an attacker.
    /// </summary>
    private static Task WriteJson(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var management = context.RequestServices.GetService<ManagementOptions>();
        if (management is null || !ManagementHosting.Authorized(context, management))
            return context.Response.WriteAsJsonAsync(new { status = report.Status.ToString() });
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }

    private sealed class PostgresCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                await using var cmd = dataSource.CreateCommand("SELECT 1");
                await cmd.ExecuteScalarAsync(ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy($"PostgreSQL: {e.Message}");
            }
        }
    }

    private sealed class RedisCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:F1} ms");
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Degraded, still ready (200): every Redis use has a fallback, and a load balancer that dropped every
                // node for a cache outage would turn it into a full one.
                return HealthCheckResult.Degraded($"Redis: {e.Message}; caches and counters use their fallbacks");
            }
        }
    }

    private sealed class KafkaCheck(KafkaEndpoint kafka) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) => Task.Run(() =>
        {
            try
            {
                KafkaNative.EnsureLoaded();
                using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.BootstrapServers }).Build();
                var metadata = admin.GetMetadata(TimeSpan.FromSeconds(3));
                return metadata.Brokers.Count > 0
                    ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s)")
                    : HealthCheckResult.Unhealthy("Kafka: no broker in metadata");
            }
            catch (KafkaException e)
            {
                return HealthCheckResult.Unhealthy($"Kafka: {e.Message}");
            }
        }, ct);
    }

    private sealed class ClusterCheck(IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            var system = services.GetService<ActorSystem>();
            if (system is null) return Task.FromResult(HealthCheckResult.Unhealthy("actor system not started"));
            var self = Cluster.Get(system).SelfMember;
            return Task.FromResult(self.Status == MemberStatus.Up
                ? HealthCheckResult.Healthy($"{self.Address} Up")
                : HealthCheckResult.Unhealthy($"{self.Address} is {self.Status}"));
        }
    }
}
