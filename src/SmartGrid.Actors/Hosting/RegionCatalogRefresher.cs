using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Hosting;

/// <summary>Loads the regions table at start-up, then every <see cref="RegionCatalog.RefreshInterval"/> (10 s), so an operator's change reaches every reader without a restart.</summary>
public sealed class RegionCatalogRefresher(RegionCatalog catalog, ILogger<RegionCatalogRefresher> log) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await catalog.RefreshAsync(cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            // A node starts without its database (the gateway then answers from its stale cache); the timer tries again.
            log.RegionsNotLoaded(e, catalog.RefreshInterval);
        }
        _running = catalog.RunRefreshAsync(e => log.RegionsNotReloaded(e, catalog.Current.LoadedAt), _stop.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _stop.Dispose();
}
