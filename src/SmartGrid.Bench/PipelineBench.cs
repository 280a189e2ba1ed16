using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Simulator;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// `bench pipeline`: one node (ingest + processor, embedded Kafka, a fresh database) driven by
/// the time-compressed simulator over HTTP at increasing rates. For each step it prints the
/// rate offered, readings/s acknowledged by ingestion and durably processed by the meters, the
/// ingestion ack latency and the window-close → row latency percentiles, and memory.
/// </summary>
internal static class PipelineBench
{
    private static readonly TimeSpan SustainedDrain = TimeSpan.FromSeconds(10);

    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 5_000, "simulated meters");
    internal static readonly Option<int> StepSeconds = BenchOptions.Int("--step-seconds", 20, "seconds at each offered rate (BENCH_RATES=2000,5000,...)");

    internal static async Task<int> RunAsync(int meters, int stepSeconds)
    {
        var rates = (Environment.GetEnvironmentVariable("BENCH_RATES") ?? "2000,5000,10000,20000,30000")
            .Split(',').Select(int.Parse).ToArray();

        await using var database = await BenchDatabase.CreateAsync();
        var ingestPort = FreePort.Next();
        await using var node = await BenchNode.StartAsync(BenchNode.Args(database, broker: null, "ingest,processor", clusterPort: 0,
            $"--SmartGrid:Http:IngestPort={ingestPort}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:SmartGrid.Node.StatusReporter=Information"));

        var fleet = SimulatorRun.CreateGenerator(new SimulatorOptions { Meters = meters }).Fleet;
        var apiKey = await node.RegisterHeadEndAsync(fleet, "bench pipeline");
        // Its meters placed on the simulator's tree, so the regions publish their transformers' and feeders' load too.
        await SimulatorService.ImportTreeAsync(node.Services.GetRequiredService<TopologyStore>(), fleet, CancellationToken.None);

        using var probe = new Probe();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        // BENCH_MODE=kafka publishes straight to raw_readings (the simulator's Kafka mode): it
        // measures the processor without the HTTP ingestion sharing its two cores.
        var viaKafka = string.Equals(Environment.GetEnvironmentVariable("BENCH_MODE"), "kafka", StringComparison.OrdinalIgnoreCase);
        var sink = new TimedSink(viaKafka
            ? new KafkaTelemetrySink(node.Services.GetRequiredService<Confluent.Kafka.IProducer<string, string>>(), TimeSpan.FromSeconds(30))
            : new HttpTelemetrySink(http, new Uri($"http://127.0.0.1:{ingestPort}/telemetry/batch"), apiKey));
        var interval = TimeSpan.FromSeconds(10);
        var eventTime = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromDays(2), WindowSize.FifteenMinutes);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var sustained = 0;

        Console.WriteLine($"pipeline bench: {meters} meters, {stepSeconds} s per step, {Environment.ProcessorCount} cores, via {(viaKafka ? "Kafka" : "HTTP ingestion with an API key")}, database {database.Name}");
        Console.WriteLine($"{"offered/s",10} {"acked/s",9} {"processed/s",12} {"steady/s",9} {"drain s",8} {"ack p50",8} {"p95",6} {"p99",6} {"win→row p50",12} {"p95",7} {"p99",7} {"heap MB",8} {"RSS MB",7}");
        foreach (var rate in rates)
        {
            var speed = rate * interval.TotalSeconds / meters;
            var sim = new SimulatorOptions
            {
                Meters = meters, Interval = interval, Speed = speed, Rate = rate, StartAt = eventTime,
                Duration = TimeSpan.FromSeconds(stepSeconds * speed), BatchSize = 500, MaxInFlight = 8,
            }.Validate();
            sink.Reset();
            probe.Reset();
            var processedBefore = probe.Processed;
            var clock = Stopwatch.StartNew();
            using var sampling = new CancellationTokenSource();
            var samples = SampleAsync(() => probe.Processed - processedBefore, clock, sampling.Token);
            var totals = await SimulatorRun.RunAsync(sim, sink, CancellationToken.None);
            var sendSeconds = clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            var steady = SteadyRate(await samples, sendSeconds);
            // The step counts as sustained when the meters caught up with what was acknowledged.
            var drain = Stopwatch.StartNew();
            while (probe.Processed - processedBefore < totals.Accepted && drain.Elapsed < TimeSpan.FromSeconds(120))
                await Task.Delay(100);
            var processed = probe.Processed - processedBefore;
            eventTime = (totals.EventTime ?? eventTime) + interval;
            var acks = sink.Latencies();
            var windows = probe.WindowLatencies();
            using var self = Process.GetCurrentProcess();
            Console.WriteLine(
                $"{rate,10} {totals.Accepted / sendSeconds,9:F0} {processed / (sendSeconds + drain.Elapsed.TotalSeconds),12:F0} {steady,9:F0} {drain.Elapsed.TotalSeconds,8:F1} " +
                $"{Percentiles.Of(acks, 50),8:F1} {Percentiles.Of(acks, 95),6:F1} {Percentiles.Of(acks, 99),6:F1} " +
                $"{Percentiles.Of(windows, 50),12:F0} {Percentiles.Of(windows, 95),7:F0} {Percentiles.Of(windows, 99),7:F0} " +
                $"{GC.GetTotalMemory(false) / 1e6,8:F0} {self.WorkingSet64 / 1e6,7:F0}");
            // Per step, so a long run shows whether the journal grows with time or stays flat.
            Console.WriteLine($"  storage: {await database.StoragePerMeterAsync(meters)}");
            // Kept up: ingestion acknowledged (nearly) what was offered, and the meters were done with it
            // within two checkpoint intervals of the send's end.
            if (totals.Accepted / sendSeconds >= 0.95 * rate && processed >= totals.Accepted && drain.Elapsed <= SustainedDrain)
                sustained = Math.Max(sustained, rate);
            if (processed < totals.Accepted)
            {
                Console.WriteLine($"  not sustained: {totals.Accepted - processed} readings still unprocessed after 120 s; stopping");
                break;
            }
        }
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"memory per active meter: {(heap - baseline) / (double)meters / 1024:F1} KiB (managed heap after full GC, {meters} meter actors live)");
        Console.WriteLine("latencies in ms; processed/s = readings durably accepted by meters over send + drain time;");
        Console.WriteLine("steady/s = slope of durably accepted readings over the last two thirds of the send (checkpoints make it a staircase; the drain always includes one checkpoint interval)");
        Console.WriteLine($"before a final cleanup pass: {await database.StoragePerMeterAsync(meters)}");
        // One cleanup pass now rather than waiting for the node's next: what the journal holds in the steady state.
        var pass = await node.Services.GetRequiredService<JournalCleanup>().RunOnceAsync();
        Console.WriteLine($"journal cleanup: {pass.EventsDeleted:N0} events and {pass.SnapshotsDeleted:N0} snapshots deleted behind snapshots and projection offset {pass.Cutoff}");
        var storage = await database.StoragePerMeterAsync(meters);
        Console.WriteLine($"after it: {storage}");
        Console.WriteLine(storage.Figure);
        Console.WriteLine($"sustained = acked/s at least 95 % of offered and every acknowledged reading processed within {SustainedDrain.TotalSeconds:0} s of the send's end");
        Console.WriteLine($"sustained readings/s: {sustained}");
        return 0;
    }

    /// <summary>Durably processed readings sampled twice a second while the simulator sends.</summary>
    private static async Task<List<(double Seconds, long Processed)>> SampleAsync(Func<long> processed, Stopwatch clock, CancellationToken ct)
    {
        var samples = new List<(double, long)>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                samples.Add((clock.Elapsed.TotalSeconds, processed()));
                await Task.Delay(500, ct);
            }
        }
        catch (OperationCanceledException) { }
        return samples;
    }

    /// <summary>
    /// Least-squares slope of processed readings against time over the last two thirds of the
    /// send: the rate the node keeps up with once warm, free of the fixed delay of one checkpoint
    /// that the drain adds to every step.
    /// </summary>
    private static double SteadyRate(List<(double Seconds, long Processed)> samples, double sendSeconds)
    {
        var tail = samples.Where(s => s.Seconds >= sendSeconds / 3).ToList();
        if (tail.Count < 3) return double.NaN;
        var meanT = tail.Average(s => s.Seconds);
        var meanP = tail.Average(s => (double)s.Processed);
        var covariance = tail.Sum(s => (s.Seconds - meanT) * (s.Processed - meanP));
        var variance = tail.Sum(s => (s.Seconds - meanT) * (s.Seconds - meanT));
        return covariance / variance;
    }

    /// <summary>Times each batch from send to ingestion's answer (which comes after Kafka acknowledged it).</summary>
    private sealed class TimedSink(ITelemetrySink inner) : ITelemetrySink
    {
        private ConcurrentBag<double> _latencies = [];

        public async Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct)
        {
            var clock = Stopwatch.StartNew();
            var result = await inner.SendAsync(batch, ct);
            _latencies.Add(clock.Elapsed.TotalMilliseconds);
            return result;
        }

        public void Reset() => _latencies = [];
        public double[] Latencies() => _latencies.Order().ToArray();
    }

    /// <summary>Listens to the pipeline's own instruments.</summary>
    private sealed class Probe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _processed;
        private ConcurrentBag<double> _windowLatencies = [];

        public Probe()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == PipelineMetrics.MeterName) l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument == PipelineMetrics.ReadingsAccepted) Interlocked.Add(ref _processed, value);
            });
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                if (instrument == PipelineMetrics.WindowLatency) _windowLatencies.Add(value);
            });
            _listener.Start();
        }

        public long Processed => Interlocked.Read(ref _processed);
        public void Reset() => _windowLatencies = [];
        public double[] WindowLatencies() => _windowLatencies.Order().ToArray();
        public void Dispose() => _listener.Dispose();
    }
}
