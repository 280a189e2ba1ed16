using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Ingestion;
using SmartGrid.Kafka;
using SmartGrid.Node;
using SmartGrid.Simulator;
using SmartGrid.Storage;

namespace SmartGrid.Integration.Tests.Simulation;

/// <summary>The simulator as a node runs it: options from configuration, the hosted service, and Kafka mode.</summary>
[Collection(IngestionCollection.Name)]
public sealed class SimulatorHostingSpecs(IngestionFixture fixture)
{
    private static DateTimeOffset HoursAgo(int hours)
    {
        var t = DateTimeOffset.UtcNow.AddHours(-hours);
        return new DateTimeOffset(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
    }

    [Fact]
    public void Should_bind_the_options_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SmartGrid:Simulator:Meters"] = "123",
            ["SmartGrid:Simulator:Seed"] = "9",
            ["SmartGrid:Simulator:Interval"] = "00:00:05",
            ["SmartGrid:Simulator:Speed"] = "60",
            ["SmartGrid:Simulator:Rate"] = "1000",
            ["SmartGrid:Simulator:Duration"] = "01:00:00",
            ["SmartGrid:Simulator:Mode"] = "Kafka",
            ["SmartGrid:Simulator:StartAt"] = "2025-01-15T14:30:00Z",
            ["SmartGrid:Simulator:Enabled"] = "false",
            ["SmartGrid:Simulator:Regions:0:Name"] = "Nashik",
            ["SmartGrid:Simulator:Regions:0:CapacityKw"] = "2500",
        }).Build();

        var options = configuration.GetSection(SimulatorOptions.Section).Get<SimulatorOptions>()!.Validate();

        Assert.Equal(123, options.Meters);
        Assert.Equal(9, options.Seed);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Interval);
        Assert.Equal(60, options.Speed);
        Assert.Equal(1000, options.EffectiveRate);
        Assert.Equal(TimeSpan.FromHours(1), options.Duration);
        Assert.Equal(SimulatorMode.Kafka, options.Mode);
        Assert.Equal(new DateTimeOffset(2025, 1, 15, 14, 30, 0, TimeSpan.Zero), options.StartAt);
        Assert.False(options.Enabled);
        Assert.Equal([new RegionSpec("Nashik", 2500)], options.Regions);
        Assert.Equal(500, options.BatchSize);
    }

    /// <summary>
    /// As in a node: the meters are dealt over the regions table, registered before the run, and
    /// posted with a key the simulator issues itself, revoked when it stops.
    /// </summary>
    [Fact]
    public async Task Should_run_as_a_hosted_service_posting_to_the_nodes_ingest_port_with_a_key_of_its_own()
    {
        var start = HoursAgo(2);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // No IngestUrl: derived from the node's ingest port, here the fixture's ingestion host.
            ["SmartGrid:Http:IngestPort"] = fixture.Host.Port.ToString(),
            ["SmartGrid:Simulator:Meters"] = "100",
            ["SmartGrid:Simulator:Seed"] = "3",
            ["SmartGrid:Simulator:StartAt"] = start.ToString("O"),
            ["SmartGrid:Simulator:Duration"] = "00:01:00",
            ["SmartGrid:Simulator:Speed"] = "10000",
            ["SmartGrid:Simulator:Rate"] = "0",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(new MeterRegistry(fixture.DataSource));
        builder.Services.AddSingleton(new RegionCatalog(fixture.DataSource));
        var keys = new IngestionKeys(fixture.DataSource);
        builder.Services.AddSingleton(keys);
        var topology = new TopologyStore(fixture.DataSource);
        builder.Services.AddSingleton(topology);
        builder.AddSimulator(builder.Configuration.GetSection(SmartGridOptions.Section).Get<SmartGridOptions>()!.Http.LocalIngestUrl);
        await using var app = builder.Build();
        var options = app.Services.GetRequiredService<SimulatorOptions>();
        var expected = Expected(options, start);
        long sentMetric = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == SimulatorMetrics.MeterName && instrument.Name == "readings.sent")
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Exchange(ref sentMetric, value));
        listener.Start();

        await app.StartAsync();
        var service = app.Services.GetServices<IHostedService>().OfType<SimulatorService>().Single();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (service.Progress.Accepted < expected && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        listener.RecordObservableInstruments();
        await app.StopAsync();

        Assert.Equal(new Uri(fixture.Host.IngestUrl, "/telemetry/batch"), options.EffectiveIngestUrl);
        Assert.Null(options.Regions);
        Assert.Equal(options.Meters, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id <= 'MTR-00000100' AND region = ANY($1)",
            (object)Regions.Defaults.Select(r => r.Name).ToArray()));
        // The fleet's tree is placed from before any reading, as FleetTopology draws it from the seed.
        var tree = FleetTopology.Of(MeterFleet.Create(new SimulationOptions { Seed = 3, MeterCount = 100, Regions = (await new RegionCatalog(fixture.DataSource).RefreshAsync()).Active.Select(r => r.Spec).ToArray() }));
        foreach (var placement in tree.Where((_, i) => i % 10 == 0))
        {
            var placed = Assert.Single(await topology.PlacementsOfAsync(placement.MeterId));
            Assert.Equal((placement.TransformerId, FleetTopology.PlacedFrom, (DateTimeOffset?)null), (placed.TransformerId, placed.ValidFrom, placed.ValidTo));
        }
        Assert.Equal(tree.Select(p => p.FeederId).Distinct().Order(), (await topology.NodesAsync(null)).Where(n => n.Kind == GridNodeKind.Feeder).Select(n => n.Id).Order());
        var issued = Assert.Single(await keys.ListAsync(), k => k.CreatedBy == "simulator");
        Assert.NotNull(issued.LastUsedAt);
        Assert.NotNull(issued.RevokedAt);
        Assert.Equal(expected, service.Progress.Sent);
        Assert.Equal(expected, service.Progress.Accepted);
        Assert.Equal(0, service.Progress.Failed);
        Assert.Equal(expected, Interlocked.Read(ref sentMetric));
    }

    [Fact]
    public async Task Should_publish_straight_to_raw_readings_in_kafka_mode()
    {
        var start = HoursAgo(3);
        var options = new SimulatorOptions
        {
            Mode = SimulatorMode.Kafka, Meters = 30, Seed = 11, StartAt = start, Duration = TimeSpan.FromMinutes(1),
            Speed = 10_000, Rate = 0, BatchSize = 100,
        };
        using var producer = (ProducerSettings.ForStrings(fixture.Broker.BootstrapServers) with { LingerMs = 2 }).CreateProducer();

        var totals = await SimulatorRun.RunAsync(options, new KafkaTelemetrySink(producer, TimeSpan.FromSeconds(10)), CancellationToken.None);

        var expected = Expected(options, start);
        Assert.Equal(expected, totals.Accepted);
        var meterIds = Enumerable.Range(1, options.Meters).Select(i => $"MTR-{i:D8}").ToHashSet();
        var published = fixture.ReadTopic(meterIds)
            .Select(r => (r.Message.Key, Reading: JsonSerializer.Deserialize<TelemetryReading>(r.Message.Value)!))
            .Where(r => r.Reading.Timestamp >= start && r.Reading.Timestamp < start + options.Duration)
            .ToList();
        Assert.Equal(expected, published.Count);
        Assert.All(published, r => Assert.Equal(r.Key, r.Reading.MeterId));
        Assert.All(published, r => Assert.Null(r.Reading.IngestedAt));
    }

    private static long Expected(SimulatorOptions options, DateTimeOffset start)
    {
        var generator = SimulatorRun.CreateGenerator(options);
        long count = 0;
        for (var tick = start; tick < start + options.Duration!.Value; tick += options.Interval)
            count += generator.ReadingsAt(tick).Count;
        return count;
    }
}
