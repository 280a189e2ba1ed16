using Microsoft.Extensions.DependencyInjection.Extensions;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Node.Ingestion;

/// <summary>Wires the ingestion endpoint (role <c>ingest</c>) into a host.</summary>
public static class IngestionHosting
{
    public const string Route = "/telemetry/batch";

    /// <summary>
    /// Registers the ingestion services with <paramref name="options"/>, or with the section
    /// <see cref="IngestionOptions.Section"/> when null. Needs the node's shared
    /// <c>IProducer&lt;string, string&gt;</c>, the <see cref="SmartGrid.Storage.MeterRegistry"/>,
    /// <see cref="SmartGrid.Storage.RegionCatalog"/> and <see cref="SmartGrid.Storage.IngestionKeys"/>
    /// in the container.
    /// </summary>
    public static WebApplicationBuilder AddIngestion(this WebApplicationBuilder builder, IngestionOptions? options = null)
    {
        options ??= builder.Configuration.GetSection(IngestionOptions.Section).Get<IngestionOptions>() ?? new IngestionOptions();
        options.Validate(builder.Environment.IsDevelopment());
        builder.Services.AddIngestion(options);
        return builder;
    }

    /// <inheritdoc cref="AddIngestion(WebApplicationBuilder, IngestionOptions?)"/>
    public static IServiceCollection AddIngestion(this IServiceCollection services, IngestionOptions options)
    {
        services.AddSingleton(options.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReadingValidator>();
        services.AddMetrics();
        services.AddSingleton<IngestionMetrics>();
        services.AddSingleton<MeterAdmission>();
        services.AddSingleton<IngestionAuthenticator>();
        services.AddSingleton<ReadingPublisher>();
        services.AddSingleton<TelemetryBatchHandler>();
        return services;
    }

    /// <summary>
    /// Maps <c>POST /telemetry/batch</c>, answered only on <paramref name="ingestPort"/> (a node
    /// with the gateway role listens on a second port). A port of 0 maps it on every port: for
    /// hosts with a single listener, such as tests on a random port.
    /// </summary>
    public static RouteHandlerBuilder MapIngestion(this IEndpointRouteBuilder endpoints, int ingestPort)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ingestPort);
        var route = endpoints
            .MapPost(Route, (HttpContext context, TelemetryBatchHandler handler) => handler.HandleAsync(context))
            .WithName("IngestTelemetryBatch")
            .DisableAntiforgery();
        return ingestPort > 0 ? route.RequireHost($"*:{ingestPort}") : route;
    }
}
