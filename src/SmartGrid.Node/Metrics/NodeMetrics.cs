using System.Diagnostics.Metrics;
using Prometheus;
using SmartGrid.Actors.Hosting;
using SmartGrid.Storage;

namespace SmartGrid.Node.Metrics;

/// <summary>
/// Prometheus <c>/metrics</c> on every HTTP port of the node. Instruments stay plain
/// System.Diagnostics.Metrics; prometheus-net's MeterAdapter exports every meter named
/// "SmartGrid.*" plus ASP.NET Core's request durations per route, Npgsql and the runtime.
/// A registry of the node's own (not prometheus-net's process-wide default) keeps two nodes
/// hosted in one process, as in tests, from exporting each other's container-made instruments.
/// </summary>
public static class NodeMetrics
{
    public const string Route = "/metrics";
    public const string MeterPrefix = "SmartGrid.";

    /// <summary>Meters of the platform we export besides our own.</summary>
    public static readonly IReadOnlySet<string> ExternalMeters = new HashSet<string>(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore.Hosting",            // http.server.request.duration per route and status: latency and errors
        "Microsoft.AspNetCore.Server.Kestrel",     // connections
        "Microsoft.AspNetCore.Diagnostics",        // unhandled exceptions by type
        "Npgsql",                                  // command durations and the connection pool
        "System.Runtime",                          // GC, thread pool, CPU, memory
    };

    private static readonly double[] MillisecondBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000];
    private static readonly double[] SecondBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public static WebApplicationBuilder AddNodeMetrics(this WebApplicationBuilder builder, IReadOnlyList<string> roles)
    {
        builder.Services.AddSingleton(builder.Configuration.BindValidated<MetricsOptions>(MetricsOptions.Section, o => o.Validate()));
        builder.Services.AddMetrics();
        builder.Services.AddSingleton(sp => new NodeMetricsRegistry(sp.GetRequiredService<IMeterFactory>()));
        builder.Services.AddSingleton(new NodeIdentity(roles));
        builder.Services.AddHostedService<ClusterMetrics>();
        return builder;
    }

    /// <summary>
    /// Maps <see cref="Route"/> on every port the node listens on (ingest, gateway, management), answered to loopback
    /// clients and to whoever sends the scrape token (<see cref="MetricsOptions.ScrapeToken"/>): route names, consumer
    /// groups, the node's address and load are a map of the system for whoever else asks.
    /// </summary>
    public static IEndpointConventionBuilder MapNodeMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<MetricsOptions>();
        var endpoint = app.MapMetrics(Route, app.Services.GetRequiredService<NodeMetricsRegistry>().Registry);
        endpoint.Add(builder =>
        {
            var export = builder.RequestDelegate!;
            builder.RequestDelegate = context => options.Admits(context)
                ? export(context)
                : Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                    detail: $"/metrics answers loopback clients, or a bearer token equal to {MetricsOptions.Section}:ScrapeToken").ExecuteAsync(context);
        });
        return endpoint;
    }

    /// <summary>Whether an instrument is exported: ours and the platform's, and only this node's when made by a container's meter factory.</summary>
    public static bool Exports(Instrument instrument, IMeterFactory nodeFactory)
    {
        var meter = instrument.Meter;
        var wanted = meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal) || ExternalMeters.Contains(meter.Name);
        return wanted && (meter.Scope is null || ReferenceEquals(meter.Scope, nodeFactory));
    }

    internal static double[] Buckets(Instrument instrument) => instrument.Unit switch
    {
        "ms" => MillisecondBuckets,
        "s" => SecondBuckets,
        _ => MeterAdapterOptions.DefaultHistogramBuckets,
    };
}

/// <summary>The node's Prometheus registry, fed by a MeterAdapter that lives as long as the node.</summary>
public sealed class NodeMetricsRegistry : IDisposable
{
    private readonly IDisposable _adapter;

    public NodeMetricsRegistry(IMeterFactory meterFactory)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Prometheus.Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = i => NodeMetrics.Exports(i, meterFactory),
            ResolveHistogramBuckets = NodeMetrics.Buckets,
            // The adapter drops a series not updated for this long (at most a day) and restarts
            // it from zero later, which reads as a counter reset; our label sets are small and bounded.
            MetricsExpireAfter = TimeSpan.FromDays(1),
        });
    }

    public CollectorRegistry Registry { get; }

    public void Dispose() => _adapter.Dispose();
}

/// <summary>This node's roles, for the node-info gauge.</summary>
public sealed record NodeIdentity(IReadOnlyList<string> Roles);
