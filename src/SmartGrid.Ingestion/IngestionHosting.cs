using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Ingestion;

/// <summary>Wires the ingestion endpoint (role <c>ingest</c>) into a host.</summary>
public static class IngestionHosting
{
    public const string Route = "/telemetry/batch";

    /// <summary>
    /// Registers the ingestion services and the ledger pump (publishing to <paramref name="kafkaBootstrap"/>)
    /// with <paramref name="options"/>, or with the section <see cref="IngestionOptions.Section"/> when
    /// null; <paramref name="defaultLedgerOwner"/> names this node's ledger rows unless the options do.
    /// Needs the <see cref="SmartGrid.Storage.MeterRegistry"/>, <see cref="SmartGrid.Storage.RegionCatalog"/>,
    /// <see cref="SmartGrid.Storage.IngestionKeys"/> and the <c>NpgsqlDataSource</c> in the container.
    /// </summary>
    public static WebApplicationBuilder AddIngestion(this WebApplicationBuilder builder, string kafkaBootstrap, string defaultLedgerOwner,
        IngestionOptions? options = null)
    {
        var development = builder.Environment.IsDevelopment();
        options = options?.Validate(development) ?? builder.Configuration.BindValidated<IngestionOptions>(IngestionOptions.Section, o => o.Validate(development));
        builder.Services.AddIngestion(options with { LedgerOwner = options.LedgerOwner ?? defaultLedgerOwner }, kafkaBootstrap);
        return builder;
    }

    /// <inheritdoc cref="AddIngestion(WebApplicationBuilder, string, string, IngestionOptions?)"/>
    public static IServiceCollection AddIngestion(this IServiceCollection services, IngestionOptions options, string kafkaBootstrap)
    {
        if (options.LedgerOwner is null)
            throw new InvalidOperationException($"{IngestionOptions.Section}:LedgerOwner must be set");
        services.AddSingleton(options.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ReadingValidator(options.ReadingRules(), sp.GetRequiredService<TimeProvider>()));
        services.AddMetrics();
        services.AddSingleton<IngestionMetrics>();
        services.AddSingleton<MeterAdmission>();
        services.AddSingleton<IngestionAuthenticator>();
        services.TryAddSingleton(sp => new IngestLedger(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton(new LedgerTarget(kafkaBootstrap, Topics.RawReadings,
            Topics.RawReadings.Partitions, TelemetryConsumer.GroupId));
        services.AddSingleton<LedgerBacklog>();
        services.AddSingleton<LedgerPump>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerPump>());
        services.AddSingleton<LedgerIntake>();
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
