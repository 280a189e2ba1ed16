using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// A cache of a table that readers use without I/O: loaded at start-up (a node may start without its database, and then
/// tries again on the timer), then reloaded on a timer until the node stops.
/// </summary>
public abstract class CatalogRefresher : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    protected abstract Task LoadAsync(CancellationToken ct);
    protected abstract Task RunAsync(Action<Exception> onError, CancellationToken ct);
    protected abstract void NotLoaded(Exception e);
    protected abstract void NotReloaded(Exception e);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await LoadAsync(cancellationToken);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            NotLoaded(e);
        }
        _running = RunAsync(NotReloaded, _stop.Token);
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

    public void Dispose()
    {
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Loads the regions table at start-up, then every <see cref="RegionCatalog.RefreshInterval"/> (10 s), so an operator's change reaches every reader without a restart.</summary>
public sealed class RegionCatalogRefresher(RegionCatalog catalog, ILogger<RegionCatalogRefresher> log) : CatalogRefresher
{
    protected override Task LoadAsync(CancellationToken ct) => catalog.RefreshAsync(ct);
    protected override Task RunAsync(Action<Exception> onError, CancellationToken ct) => catalog.RunRefreshAsync(onError, ct);
    protected override void NotLoaded(Exception e) => log.RegionsNotLoaded(e, catalog.RefreshInterval);
    protected override void NotReloaded(Exception e) => log.RegionsNotReloaded(e, catalog.Current.LoadedAt);
}

/// <summary>Loads the grid's tree at start-up, then every <see cref="GridLayoutCatalog.RefreshInterval"/>: what the region actors sum their transformers and feeders by.</summary>
public sealed class GridLayoutRefresher(GridLayoutCatalog catalog, ILogger<GridLayoutRefresher> log) : CatalogRefresher
{
    protected override Task LoadAsync(CancellationToken ct) => catalog.RefreshAsync(ct);
    protected override Task RunAsync(Action<Exception> onError, CancellationToken ct) => catalog.RunRefreshAsync(onError, ct);
    protected override void NotLoaded(Exception e) => log.GridLayoutNotLoaded(e, GridLayoutCatalog.RefreshInterval);
    protected override void NotReloaded(Exception e) => log.GridLayoutNotReloaded(e, catalog.Current.LoadedAt);
}
