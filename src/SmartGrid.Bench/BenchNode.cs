using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Domain.Simulation;
using SmartGrid.Node;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// A node a bench runs in its own process: built from the bench's arguments and started; when the bench is done with it,
/// whatever the outcome, stopped gracefully (streams drained, singletons handed over) and then disposed.
/// </summary>
internal sealed class BenchNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchNode(WebApplication app) => _app = app;

    public IServiceProvider Services => _app.Services;

    public static async Task<BenchNode> StartAsync(string[] args)
    {
        var app = SmartGridNode.Build(args);
        await app.StartAsync();
        return new BenchNode(app);
    }

    /// <summary>As a head-end in production: its meters registered by the operator, and the ingestion key its requests carry.</summary>
    public async Task<string> RegisterHeadEndAsync(MeterFleet fleet, string name)
    {
        await Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(fleet.Meters.Select(m => (m.MeterId, m.Region)));
        var (_, secret) = await Services.GetRequiredService<IngestionKeys>().CreateAsync(name, null, canProvision: false, "bench");
        return secret;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
