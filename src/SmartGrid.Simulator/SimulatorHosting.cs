using Microsoft.Extensions.DependencyInjection.Extensions;
using SmartGrid.Actors.Hosting;
using SmartGrid.Storage;

namespace SmartGrid.Simulator;

/// <summary>Wires the simulator (role <c>simulator</c>) into a host.</summary>
public static class SimulatorHosting
{
    /// <summary>
    /// Registers <see cref="SimulatorService"/> with <paramref name="options"/>, or with the section
    /// <see cref="SimulatorOptions.Section"/> when null; meters are dealt over the active regions
    /// of the regions table unless the options name their own, and sent (Http mode) to
    /// <paramref name="localIngestUrl"/> (the node's own ingest port) unless IngestUrl is set.
    /// Kafka mode uses the node's shared <c>IProducer&lt;string, string&gt;</c>.
    /// </summary>
    public static WebApplicationBuilder AddSimulator(this WebApplicationBuilder builder, Uri localIngestUrl, SimulatorOptions? options = null)
    {
        options ??= builder.Configuration.BindValidated<SimulatorOptions>(SimulatorOptions.Section, o => o.Validate());
        if (options.IngestUrl is null)
            options = options with { IngestUrl = localIngestUrl.ToString() };
        builder.Services.AddSingleton(options.Validate());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddHostedService<SimulatorService>();
        return builder;
    }
}
