using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.DependencyInjection;
using Akka.Hosting;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Tariffs;
using StackExchange.Redis;

namespace SmartGrid.Services.Hosting;

/// <summary>Settings of the grid services of one node.</summary>
public sealed record GridServicesOptions
{
    public TariffSettings Tariffs { get; init; } = new();
    public AlertSettings Alerts { get; init; } = new();
    public RedisKeyspace Redis { get; init; } = RedisKeyspace.Default;
}

/// <summary>
/// Wiring of the TariffManager and AlertManager: cluster singletons on nodes with the services role,
/// singleton proxies elsewhere (the gateway asks the AlertManager through
/// <c>IRequiredActor&lt;AlertManager&gt;</c>).
/// </summary>
public static class GridServicesHosting
{
    /// <summary>The cluster role that hosts the singletons.</summary>
    public const string Role = ClusterRoles.Services;

    /// <summary>
    /// Registers Redis (one multiplexer, unless one is registered already) and the options. The
    /// managers also need an <see cref="NpgsqlDataSource"/> and an <see cref="IProducer{TKey,TValue}"/>
    /// of strings from the container.
    /// </summary>
    public static IServiceCollection AddGridServices(this IServiceCollection services, string redisConnectionString,
        GridServicesOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(redisConnectionString))
            throw new ArgumentException("The Redis connection string (ConnectionStrings:Redis) is missing.", nameof(redisConnectionString));
        services.TryAddSingleton(_ => RedisConnection.Connect(redisConnectionString));
        services.AddSingleton(options ?? new GridServicesOptions());
        return services;
    }

    /// <summary>
    /// <see cref="AddGridServices(IServiceCollection, string, GridServicesOptions?)"/> from configuration:
    /// ConnectionStrings:Redis and the section SmartGrid:Services, validated (the error names the key).
    /// </summary>
    public static IServiceCollection AddGridServices(this IServiceCollection services, IConfiguration configuration)
    {
        var redis = configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(redis))
            throw new InvalidOperationException("Configuration ConnectionStrings:Redis is not set (./build.sh services up exports it)");
        return services.AddGridServices(redis, ServicesConfiguration.ReadGridServices(configuration));
    }

    /// <summary>
    /// The singletons (role <see cref="Role"/>) when <paramref name="roles"/> has it, and the serializer of
    /// their messages. Elsewhere, proxies only when <paramref name="proxies"/> (a node that asks them, such as
    /// the gateway): a proxy looks for its singleton all the time and warns every 30 s while none is up.
    /// <paramref name="kafkaBootstrap"/> null runs them without consumers.
    /// </summary>
    public static AkkaConfigurationBuilder AddGridServices(this AkkaConfigurationBuilder builder, IEnumerable<string> roles,
        string? kafkaBootstrap, bool proxies = true)
    {
        builder.WithCustomSerializer("grid-services", GridServicesSerializer.Manifests.Keys, system => new GridServicesSerializer(system));
        var singleton = new ClusterSingletonOptions { Role = Role };
        if (!roles.Contains(Role))
        {
            return proxies
                ? builder
                    .WithSingletonProxy<TariffManager>(TariffManager.Name, singleton)
                    .WithSingletonProxy<AlertManager>(AlertManager.Name, singleton)
                : builder;
        }

        return builder
            .WithManager<TariffManager, TariffSettings>(TariffManager.Name,
                o => o.Tariffs with { Consumer = o.Tariffs.Consumer with { BootstrapServers = kafkaBootstrap } }, TariffManager.Props, singleton)
            .WithManager<AlertManager, AlertSettings>(AlertManager.Name,
                o => o.Alerts with { Consumer = o.Alerts.Consumer with { BootstrapServers = kafkaBootstrap } }, AlertManager.Props, singleton);
    }

    /// <summary>
    /// A manager singleton (and its proxy) built from the container: the options registered by AddGridServices, with no
    /// defaults in their place (a node without them is wired wrongly and must not start with settings nobody chose).
    /// </summary>
    private static AkkaConfigurationBuilder WithManager<TManager, TSettings>(this AkkaConfigurationBuilder builder, string name,
        Func<GridServicesOptions, TSettings> settings,
        Func<TSettings, NpgsqlDataSource, IConnectionMultiplexer, RedisKeyspace, IProducer<string, string>, TimeProvider?, Props> props,
        ClusterSingletonOptions singleton) where TManager : ActorBase =>
        builder.WithSingleton<TManager>(name, (_, _, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            var options = sp.GetRequiredService<GridServicesOptions>();
            return props(settings(options), sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IConnectionMultiplexer>(),
                options.Redis, sp.GetRequiredService<IProducer<string, string>>(), sp.GetService<TimeProvider>());
        }, singleton, createProxyToo: true);
}
