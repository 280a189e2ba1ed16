using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Services.Hosting;
using StackExchange.Redis;

namespace SmartGrid.Services.Notifications;

/// <summary>
/// Wiring of the NotificationManager: a cluster singleton on nodes with the services role, a
/// proxy elsewhere. Its only wire message (<see cref="Common.RunMaintenance"/>) is already covered
/// by <see cref="GridServicesSerializer"/>.
/// </summary>
public static class NotificationsHosting
{
    /// <summary>
    /// Registers the settings, the templates, the email and webhook channels and, when their base URL is set, the SMS and push channels (further
    /// <see cref="INotificationChannel"/> registrations are picked up too). The manager also needs an
    /// <see cref="NpgsqlDataSource"/> from the container and, unless <see cref="NotificationSettings.MaxPerRecipientPerHour"/>
    /// is 0, an <see cref="IConnectionMultiplexer"/> (registered by <c>AddGridServices</c>) for the rate limit.
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, NotificationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(settings);
        services.TryAddSingleton(new NotificationTemplates(settings.Templates));
        services.AddSingleton<INotificationChannel>(new EmailChannel(settings.Smtp));
        var http = new HttpClient();
        services.AddSingleton<INotificationChannel>(new WebhookChannel(settings.Webhook));
        if (!string.IsNullOrWhiteSpace(settings.Sms.BaseUrl))
            services.AddSingleton<INotificationChannel>(new SmsChannel(http, settings.Sms));
        if (!string.IsNullOrWhiteSpace(settings.Push.BaseUrl))
            services.AddSingleton<INotificationChannel>(new PushChannel(http, settings.Push));
        return services;
    }

    /// <summary>The same from configuration: the section SmartGrid:Notifications, validated (the error names the key).</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, IConfiguration configuration) =>
        services.AddNotifications(ServicesSettings.ReadNotifications(configuration));

    /// <summary>
    /// The singleton (role <see cref="ClusterRoles.Services"/>) when <paramref name="roles"/> has it; a proxy
    /// otherwise only when <paramref name="proxy"/> (see <see cref="GridServicesHosting.AddGridServices(AkkaConfigurationBuilder, IEnumerable{string}, string?, bool)"/>).
    /// </summary>
    public static AkkaConfigurationBuilder AddNotifications(this AkkaConfigurationBuilder builder, IEnumerable<string> roles, string? kafkaBootstrap,
        bool proxy = true)
    {
        var singleton = new ClusterSingletonOptions { Role = ClusterRoles.Services };
        if (!roles.Contains(ClusterRoles.Services))
            return proxy ? builder.WithSingletonProxy<NotificationManager>(NotificationManager.Name, singleton) : builder;

        return builder.WithSingleton<NotificationManager>(NotificationManager.Name, (_, _, resolver) =>
        {
            var sp = resolver.GetService<IServiceProvider>();
            // Registered by AddNotifications and AddGridServices: a node without them is wired wrongly, not defaulted.
            var grid = sp.GetRequiredService<GridServicesOptions>();
            var settings = sp.GetRequiredService<NotificationSettings>();
            settings = settings with { Consumer = grid.ConsumerFor(settings.Consumer, kafkaBootstrap) };
            var rateLimit = settings.MaxPerRecipientPerHour > 0
                ? new RecipientRateLimit(sp.GetRequiredService<IConnectionMultiplexer>(), grid.Redis, settings.MaxPerRecipientPerHour)
                : null;
            return NotificationManager.Props(settings, sp.GetRequiredService<NpgsqlDataSource>(), sp.GetServices<INotificationChannel>(),
                sp.GetRequiredService<NotificationTemplates>(), sp.GetService<TimeProvider>(), rateLimit);
        }, singleton, createProxyToo: true);
    }
}
