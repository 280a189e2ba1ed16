using Microsoft.Extensions.DependencyInjection.Extensions;
using SmartGrid.Actors.Hosting;
using SmartGrid.Node.Ingestion;

namespace SmartGrid.Node.Simulation;

/// <summary>Wires the simulator (role <c>simulator</c>) into a host.</summary>
public static class SimulatorHosting
{
    /// <summary>
    /// Registers <see cref="SimulatorService"/> with <paramref name="options"/>, or with the section
    /// <see cref="SimulatorOptions.Section"/> when null; meters are dealt over the active regions
    /// of the regions table unless the options name their own, and sent (Http mode) to this node's
    /// ingest port (SmartGrid:Http) unless IngestUrl is set. Kafka mode uses the node's shared
    /// <c>IProducer&lt;string, string&gt;</c>.
    /// </summary>
    public static WebApplicationBuilder AddSimulator(this WebApplicationBuilder builder, SimulatorOptions? options = null)
    {
        options ??= builder.Configuration.GetSection(SimulatorOptions.Section).Get<SimulatorOptions>() ?? new SimulatorOptions();
        var node = builder.Configuration.GetSection(SmartGridOptions.Section).Get<SmartGridOptions>() ?? new SmartGridOptions();
        if (options.IngestUrl is null)
        {
            // The local ingestion endpoint: a wildcard bind address is reached on loopback.
            var host = node.Http.BindAddress is "0.0.0.0" or "::" or "[::]" ? "127.0.0.1" : node.Http.BindAddress;
            options = options with { IngestUrl = new UriBuilder("http", host, node.Http.IngestPort, IngestionHosting.Route).Uri.ToString() };
        }
        builder.Services.AddSingleton(options.Validate());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddHostedService<SimulatorService>();
        return builder;
    }
}
