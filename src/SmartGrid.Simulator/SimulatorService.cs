using System.Diagnostics.Metrics;
using Confluent.Kafka;
using SmartGrid.Domain.Simulation;
using SmartGrid.Storage;

namespace SmartGrid.Simulator;

/// <summary>
/// The <c>simulator</c> role: runs <see cref="SimulatorRun"/> with the configured sink once the
/// host has started, and logs sent / accepted / rejected and readings/s every
/// <see cref="ReportEvery"/>. A failing simulator logs and stops; it never takes the node down.
/// </summary>
public sealed class SimulatorService(
    SimulatorOptions options,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IMeterFactory meterFactory,
    TimeProvider time,
    ILogger<SimulatorService> log) : BackgroundService
{
    public static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(5);

    private readonly SimulatorProgress _progress = new();
    private double _lastRate;

    /// <summary>Counters of the current run.</summary>
    public SimulatorProgress Progress => _progress;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled)
        {
            log.Disabled(SimulatorOptions.Section);
            return;
        }
        if (!await WaitForStartAsync(stoppingToken))
            return;
        IssuedKey? issued = null;
        try
        {
            (var run, issued) = await EnrolAsync(stoppingToken);
            await RunAsync(run, issued?.Secret ?? run.ApiKey, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            log.CouldNotStart(e);
        }
        finally
        {
            if (issued is not null)
                await RevokeQuietlyAsync(issued.Key);
        }
    }

    private sealed record IssuedKey(IngestionKey Key, string Secret);

    /// <summary>
    /// Prepares a run inside a node, as an operator would: deals the meters over the active
    /// regions of the regions table (unless the options name regions), registers the fleet in the
    /// meter registry (readings may not register meters outside Development) and, in Http mode
    /// without a configured key, issues a key for this run. Without storage (a bare host) the
    /// options are used as they are.
    /// </summary>
    private async Task<(SimulatorOptions, IssuedKey?)> EnrolAsync(CancellationToken ct)
    {
        if (services.GetService<RegionCatalog>() is not { } catalog || services.GetService<MeterRegistry>() is not { } registry)
            return (options, null);
        var run = options;
        if (run.Regions is not { Count: > 0 })
        {
            var active = (await catalog.RefreshAsync(ct)).Active;
            if (active.Count == 0)
                throw new InvalidOperationException("the regions table holds no active region to deal the meters over (POST /api/v1/admin/regions)");
            run = run with { Regions = active.Select(r => r.Spec).ToArray() };
        }
        var fleet = SimulatorRun.CreateGenerator(run).Fleet;
        var registered = await registry.EnsureRegisteredAsync(fleet.Meters.Select(m => (m.MeterId, m.Region)), ct);
        log.Registered(registered, fleet.Meters.Count, run.Regions!.Count);
        if (services.GetService<TopologyStore>() is { } topology)
            await PlaceAsync(topology, fleet, ct);
        if (run.Mode != SimulatorMode.Http || run.ApiKey is not null || services.GetService<IngestionKeys>() is not { } keys)
            return (run, null);
        var (key, secret) = await keys.CreateAsync($"simulator {Environment.MachineName} pid {Environment.ProcessId}", null,
            canProvision: false, createdBy: "simulator", ct);
        log.KeyIssued(key.Prefix);
        return (run, new IssuedKey(key, secret));
    }

    /// <summary>
    /// Imports the fleet's tree like an operator's file: the first start creates its feeders and
    /// transformers, a restart finds every line unchanged, and a meter an operator has moved since
    /// stays where they put it (its line is refused and counted).
    /// </summary>
    private async Task PlaceAsync(TopologyStore topology, MeterFleet fleet, CancellationToken ct)
    {
        var tree = FleetTopology.Of(fleet);
        var results = await ImportTreeAsync(topology, tree, ct);
        var placed = results.Count(r => r.Outcome is PlacementOutcome.Placed or PlacementOutcome.Moved);
        var unchanged = results.Count(r => r.Outcome == PlacementOutcome.Unchanged);
        var refused = results.Count - placed - unchanged;
        var transformers = tree.Select(p => p.TransformerId).Distinct().Count();
        var feeders = tree.Select(p => p.FeederId).Distinct().Count();
        log.Placed(placed, unchanged, refused, transformers, feeders);
    }

    /// <summary>Imports the fleet's tree (<see cref="FleetTopology"/>) as an operator's file, placed from <see cref="FleetTopology.PlacedFrom"/>.</summary>
    public static Task<IReadOnlyList<TopologyImportResult>> ImportTreeAsync(TopologyStore topology, MeterFleet fleet, CancellationToken ct) =>
        ImportTreeAsync(topology, FleetTopology.Of(fleet), ct);

    private static Task<IReadOnlyList<TopologyImportResult>> ImportTreeAsync(TopologyStore topology, IReadOnlyList<SimulatedPlacement> tree, CancellationToken ct) =>
        topology.ImportAsync(
            tree.Select((p, i) => new TopologyImportRow(i + 1, p.MeterId, p.TransformerId, p.FeederId, p.Region, p.TransformerRatedKw, p.FeederRatedKw)).ToArray(),
            FleetTopology.PlacedFrom, ct);

    private async Task RevokeQuietlyAsync(IngestionKey key)
    {
        try
        {
            await services.GetRequiredService<IngestionKeys>().RevokeAsync(key.Id, "simulator", CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            log.KeyNotRevoked(e, key.Prefix, key.Id);
        }
    }

    private async Task RunAsync(SimulatorOptions options, string? apiKey, CancellationToken stoppingToken)
    {
        using var meter = SimulatorMetrics.Observe(meterFactory, _progress, () => Volatile.Read(ref _lastRate));
        using var http = options.Mode == SimulatorMode.Http
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(60) }
            : null;
        ITelemetrySink sink = http is not null
            ? new HttpTelemetrySink(http, options.EffectiveIngestUrl, apiKey)
            : new KafkaTelemetrySink(services.GetRequiredService<IProducer<string, string>>(), TimeSpan.FromSeconds(30));

        using var reportStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var reporting = ReportAsync(reportStop.Token);
        log.Starting(options.Meters, options.Interval, options.Speed, options.EffectiveRate, options.Mode,
            options.Mode == SimulatorMode.Http ? options.EffectiveIngestUrl.ToString() : "raw_readings", options.Seed);
        try
        {
            var totals = await SimulatorRun.RunAsync(options, sink, _progress, time, log, stoppingToken);
            log.Finished(totals.Sent, totals.Accepted, totals.Rejected, totals.Failed, totals.Elapsed, totals.ReadingsPerSecond);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.Stopped(_progress.Sent, _progress.Accepted, _progress.Rejected, _progress.Failed);
        }
        catch (Exception e)
        {
            log.Failed(e);
        }
        finally
        {
            await reportStop.CancelAsync();
            await reporting;
        }
    }

    /// <summary>Starts sending only once the host (and so the local ingestion endpoint) is up.</summary>
    private async Task<bool> WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReportAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ReportEvery, time);
        var lastSent = 0L;
        var lastAt = time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var totals = _progress.Snapshot();
                var now = time.GetTimestamp();
                var rate = (totals.Sent - lastSent) / time.GetElapsedTime(lastAt, now).TotalSeconds;
                Volatile.Write(ref _lastRate, rate);
                (lastSent, lastAt) = (totals.Sent, now);
                log.Progress(totals.Sent, totals.Accepted, totals.Rejected, totals.Failed, rate, totals.EventTime);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
