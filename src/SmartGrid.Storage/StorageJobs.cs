using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SmartGrid.Storage;

/// <summary>The storage layer's recurring jobs, each run for the host's lifetime.</summary>
public static class StorageJobs
{
    /// <summary>The hourly partition job: partitions created ahead of time, the ones past retention dropped. Needs <see cref="StorageServiceCollectionExtensions.AddSmartGridStorage"/>.</summary>
    public static IServiceCollection AddPartitionMaintenance(this IServiceCollection services) =>
        services.AddHostedService<PartitionMaintenanceService>();

    /// <summary>
    /// The journal cleanup: every <paramref name="interval"/>, the events of the entities named by
    /// <paramref name="persistenceIdPrefixes"/> that are behind their snapshots and behind every
    /// projection of <paramref name="projectionIds"/> that reads them by tag.
    /// </summary>
    public static IServiceCollection AddJournalCleanup(this IServiceCollection services, TimeSpan interval,
        IReadOnlyList<string> projectionIds, IReadOnlyList<string> persistenceIdPrefixes)
    {
        services.AddSingleton(sp => new JournalCleanup(sp.GetRequiredService<StorageServices>().DataSource, projectionIds, persistenceIdPrefixes,
            sp.GetService<ILogger<JournalCleanup>>(), sp.GetService<TimeProvider>()));
        services.AddHostedService(sp => new JournalCleanupService(sp.GetRequiredService<JournalCleanup>(), interval, sp.GetRequiredService<ILogger<JournalCleanupService>>()));
        return services;
    }
}

/// <summary>Creates the partitions ahead of time and drops the ones past retention, hourly.</summary>
public sealed class PartitionMaintenanceService(PartitionMaintenance partitions, ILogger<PartitionMaintenanceService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await partitions.RunAsync(StorageServices.MaintenanceInterval, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.PartitionMaintenanceStopped();
        }
    }
}

/// <summary>Runs <see cref="JournalCleanup"/> on its interval for the node's lifetime.</summary>
public sealed class JournalCleanupService(JournalCleanup cleanup, TimeSpan interval, ILogger<JournalCleanupService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await cleanup.RunAsync(interval, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.JournalCleanupStopped();
        }
    }
}
