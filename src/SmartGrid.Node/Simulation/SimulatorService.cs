using System.Diagnostics.Metrics;
using Confluent.Kafka;

namespace SmartGrid.Node.Simulation;

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
            log.LogInformation("Simulator disabled ({Section}:Enabled = false)", SimulatorOptions.Section);
            return;
        }
        if (!await WaitForStartAsync(stoppingToken))
            return;

        using var meter = SimulatorMetrics.Observe(meterFactory, _progress, () => Volatile.Read(ref _lastRate));
        using var http = options.Mode == SimulatorMode.Http
            ? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(60) }
            : null;
        ITelemetrySink sink = http is not null
            ? new HttpTelemetrySink(http, options.EffectiveIngestUrl)
            : new KafkaTelemetrySink(services.GetRequiredService<IProducer<string, string>>(), TimeSpan.FromSeconds(30));

        using var reportStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var reporting = ReportAsync(reportStop.Token);
        log.LogInformation(
            "Simulator starting: {Meters} meters every {Interval}, speed {Speed}x, cap {Rate:0.#} readings/s, {Mode} to {Target}, seed {Seed}",
            options.Meters, options.Interval, options.Speed, options.EffectiveRate, options.Mode,
            options.Mode == SimulatorMode.Http ? options.EffectiveIngestUrl.ToString() : "raw_readings", options.Seed);
        try
        {
            var totals = await SimulatorRun.RunAsync(options, sink, _progress, time, log, stoppingToken);
            log.LogInformation("Simulator finished: sent {Sent}, accepted {Accepted}, rejected {Rejected}, failed {Failed} in {Elapsed} ({Rate:0} readings/s)",
                totals.Sent, totals.Accepted, totals.Rejected, totals.Failed, totals.Elapsed, totals.ReadingsPerSecond);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            log.LogInformation("Simulator stopped: sent {Sent}, accepted {Accepted}, rejected {Rejected}, failed {Failed}",
                _progress.Sent, _progress.Accepted, _progress.Rejected, _progress.Failed);
        }
        catch (Exception e)
        {
            log.LogError(e, "Simulator failed");
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
                log.LogInformation("Simulator: sent {Sent}, accepted {Accepted}, rejected {Rejected}, failed {Failed}, {Rate:0} readings/s, event time {EventTime:yyyy-MM-ddTHH:mm:ssZ}",
                    totals.Sent, totals.Accepted, totals.Rejected, totals.Failed, rate, totals.EventTime);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
