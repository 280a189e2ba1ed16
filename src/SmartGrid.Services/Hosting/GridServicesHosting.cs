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
using SmartGrid.Storage;
using StackExchange.Redis;

namespace SmartGrid.Services.Hosting;

/// <summary>
/// Wiring of the TariffManager and AlertManager: cluster singletons on nodes with the services role,
/// singleton proxies elsewhere (the gateway asks the AlertManager through
/// <c>IRequiredActor&lt;AlertManagerKey&gt;</c>, a key of the contracts).
/// </summary>
public static class GridServicesHosting
{
    /// <summary>
    /// Registers Redis (one multiplexer, unless one is registered already) and the options. The
    /// managers also need an <see cref="NpgsqlDataSource"/> and an <see cref="IProducer{TKey,TValue}"/>
    /// of strings from the container.
    /// </summary>
    public static IServiceCollection AddGridServices(this IServiceCollection services, string redisConnectionString, GridServicesOptions options)
    {
        if (string.IsNullOrWhiteSpace(redisConnectionString))
            throw new ArgumentException("The Redis connection string (ConnectionStrings:Redis) is missing.", nameof(redisConnectionString));
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(_ => RedisConnection.Connect(redisConnectionString));
        services.AddSingleton(options);
        return services;
    }

    /// <summary>
    /// <see cref="AddGridServices(IServiceCollection, string, GridServicesOptions)"/> from configuration:
    /// ConnectionStrings:Redis and the section SmartGrid:Services, validated (the error names the key).
    /// </summary>
    public static IServiceCollection AddGridServices(this IServiceCollection services, IConfiguration configuration)
    {
        return services.AddGridServices(RedisConnection.ConnectionString(configuration), ServicesSettings.ReadGridServices(configuration));
    }

    /// <summary>
    /// The singletons (role <see cref="ClusterRoles.Services"/>) when <paramref name="roles"/> has it, and the serializer of
    /// their messages. Elsewhere, proxies only when <paramref name="proxies"/> (a node that asks them, such as
    /// the gateway): a proxy looks for its singleton all the time and warns every 30 s while none is up.
    /// <paramref name="kafkaBootstrap"/> null runs them without consumers.
    /// </summary>
    public static AkkaConfigurationBuilder AddGridServices(this AkkaConfigurationBuilder builder, IEnumerable<string> roles,
        string? kafkaBootstrap, bool proxies = true)
    {
        builder.WithCustomSerializer("grid-services", GridServicesSerializer.Manifests.Keys, system => new GridServicesSerializer(system));
        var singleton = new ClusterSingletonOptions { Role = ClusterRoles.Services };
        if (!roles.Contains(ClusterRoles.Services))
        {
            return proxies
                ? builder
                    .WithSingletonProxy<TariffManagerKey>(TariffManager.Name, singleton)
                    .WithSingletonProxy<AlertManagerKey>(AlertManager.Name, singleton)
                : builder;
        }

        return builder
            .WithManager<TariffManagerKey, TariffSettings>(TariffManager.Name, o => o.TariffsFor(kafkaBootstrap), TariffManager.Props, singleton)
            .WithManager<AlertManagerKey, AlertSettings>(AlertManager.Name, o => o.AlertsFor(kafkaBootstrap), AlertManager.Props, singleton);
    }

    /// <summary>
    /// A manager singleton (and its proxy) built from the container: the options registered by AddGridServices, with no
    /// defaults in their place (a node without them is wired wrongly and must not start with settings nobody chose).
    /// </summary>
    private static AkkaConfigurationBuilder WithManager<TKey, TSettings>(this AkkaConfigurationBuilder builder, string name,
        Func<GridServicesOptions, TSettings> settings,
        Func<TSettings, NpgsqlDataSource, IConnectionMultiplexer, RedisKeyspace, IProducer<string, string>, TimeProvider?, Props> props,
        ClusterSingletonOptions singleton) =>
        builder.WithSingleton<TKey>(name, (_, _, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            var options = sp.GetRequiredService<GridServicesOptions>();
            return props(settings(options), sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IConnectionMultiplexer>(),
                options.Redis, sp.GetRequiredService<IProducer<string, string>>(), sp.GetService<TimeProvider>());
        }, singleton, createProxyToo: true);
}
