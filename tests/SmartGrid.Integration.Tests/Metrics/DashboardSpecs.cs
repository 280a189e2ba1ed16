using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using SmartGrid.Node;
using SmartGrid.Ingestion;
using SmartGrid.Node.Metrics;
using SmartGrid.Simulator;

namespace SmartGrid.Integration.Tests.Metrics;

/// <summary>
/// The dashboards ask for what the code exports: every smartgrid_* name in their queries is the
/// Prometheus name of an instrument some SmartGrid meter creates (the platform's names are
/// checked against a real scrape in <see cref="NodeMetricsSpecs"/>).
/// </summary>
public sealed partial class DashboardSpecs
{
    [Fact]
    public void Should_provide_the_six_dashboards()
    {
        var found = Dashboards.Expressions();
        Assert.Equal(Dashboards.Expected.Order(), found.Keys.Order());
        // The regional heatmap is SQL on regional_aggregates_1m; every other dashboard has PromQL.
        Assert.All(found.Where(d => d.Key != "regional-load"), d => Assert.NotEmpty(d.Value));
    }

    [Fact]
    public void Should_query_only_smartgrid_metrics_that_an_instrument_exports()
    {
        var exported = SmartGridPrometheusNames();
        // Sanity: the discovery saw the meters of every project that has some.
        foreach (var prefix in new[] { "smartgrid_ingestion_", "smartgrid_pipeline_", "smartgrid_storage_", "smartgrid_cluster_", "smartgrid_simulator_" })
            Assert.Contains(exported, n => n.StartsWith(prefix, StringComparison.Ordinal));

        var unknown = Dashboards.Expressions()
            .SelectMany(d => d.Value.SelectMany(Dashboards.MetricNames).Select(n => (Dashboard: d.Key, Name: n)))
            .Where(x => x.Name.StartsWith("smartgrid_", StringComparison.Ordinal) && !exported.Contains(x.Name))
            .Select(x => $"{x.Dashboard}: {x.Name}")
            .Distinct()
            .ToList();
        Assert.True(unknown.Count == 0, "dashboards query metrics no instrument exports:\n" + string.Join("\n", unknown));
    }

    [Fact]
    public void Should_name_each_series_after_its_meter_once()
    {
        // prometheus-net prefixes the meter's name; an instrument repeating it would export
        // smartgrid_pipeline_smartgrid_pipeline_readings_accepted.
        var repeating = SmartGridInstruments()
            .Where(i => i.Name.StartsWith("smartgrid", StringComparison.OrdinalIgnoreCase))
            .Select(i => $"{i.Meter.Name}: {i.Name}")
            .ToList();
        Assert.True(repeating.Count == 0, "instruments repeating their meter's prefix:\n" + string.Join("\n", repeating));
        var names = SmartGridPrometheusNames();
        Assert.Contains("smartgrid_pipeline_readings_accepted", names);
        Assert.Contains("smartgrid_ingestion_batch_ack_latency_bucket", names);
        Assert.Contains("smartgrid_services_alerts_created", names);
    }

    /// <summary>
    /// Creates every SmartGrid instrument (static meter holders by running their type initialisers,
    /// container-made ones through a meter factory) and names each as prometheus-net's MeterAdapter
    /// does: lower-case "{meter}_{instrument}" with other characters as '_', histograms as _bucket/_sum/_count.
    /// </summary>
    private static HashSet<string> SmartGridPrometheusNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in SmartGridInstruments())
        {
            var name = NotPrometheus().Replace($"{i.Meter.Name}_{i.Name}".ToLowerInvariant(), "_");
            if (i.GetType().IsGenericType && i.GetType().GetGenericTypeDefinition() == typeof(Histogram<>))
                names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            else
                names.Add(name);
        }
        return names;
    }

    private static List<Instrument> SmartGridInstruments()
    {
        var instruments = new ConcurrentDictionary<Instrument, bool>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (i, _) => { if (i.Meter.Name.StartsWith(NodeMetrics.MeterPrefix, StringComparison.Ordinal)) instruments[i] = true; },
        };
        listener.Start();

        foreach (var type in SmartGridAssemblies().SelectMany(a => a.GetTypes()))
            if (type is { IsAbstract: true, IsSealed: true } && type.GetField("MeterName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
                RuntimeHelpers.RunClassConstructor(type.TypeHandle);

        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        _ = new IngestionMetrics(factory, new LedgerBacklog());
        SimulatorMetrics.Observe(factory, new SimulatorProgress(), () => 0);
        using var cluster = new ClusterMetrics(services, new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), factory,
            new NodeIdentity(["processor"]), NullLogger<ClusterMetrics>.Instance);
        return [.. instruments.Keys];
    }

    private static List<Assembly> SmartGridAssemblies()
    {
        var seen = new Dictionary<string, Assembly>();
        var pending = new Stack<Assembly>([typeof(SmartGridNode).Assembly]);
        while (pending.TryPop(out var assembly))
        {
            if (!seen.TryAdd(assembly.GetName().Name!, assembly)) continue;
            foreach (var reference in assembly.GetReferencedAssemblies().Where(r => r.Name!.StartsWith("SmartGrid.", StringComparison.Ordinal)))
                pending.Push(Assembly.Load(reference));
        }
        return [.. seen.Values];
    }

    [GeneratedRegex("[^a-z0-9_]")]
    private static partial Regex NotPrometheus();
}
