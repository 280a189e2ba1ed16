using Microsoft.Extensions.Logging.Abstractions;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Simulator;

/// <summary>What a simulator run did so far (or in total).</summary>
/// <param name="Sent">Readings handed to the sink.</param>
/// <param name="Failed">Readings of batches the sink could not take after every attempt.</param>
/// <param name="EventTime">Timestamp of the latest tick sent, null before the first.</param>
public readonly record struct SimulatorTotals(
    long Sent, long Accepted, long Rejected, long Failed, long Batches, DateTimeOffset? EventTime, TimeSpan Elapsed)
{
    /// <summary>Readings sent per wall-clock second over the run.</summary>
    public double ReadingsPerSecond => Elapsed > TimeSpan.Zero ? Sent / Elapsed.TotalSeconds : 0;
}

/// <summary>Live counters of a run, safe to read from other threads (logging, metrics).</summary>
public sealed class SimulatorProgress
{
    private long _sent;
    private long _accepted;
    private long _rejected;
    private long _failed;
    private long _batches;
    private long _eventTicks = -1;
    private long _startedAt;
    private TimeProvider _time = TimeProvider.System;

    public long Sent => Interlocked.Read(ref _sent);
    public long Accepted => Interlocked.Read(ref _accepted);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Failed => Interlocked.Read(ref _failed);
    public long Batches => Interlocked.Read(ref _batches);

    public SimulatorTotals Snapshot()
    {
        var eventTicks = Interlocked.Read(ref _eventTicks);
        var startedAt = Interlocked.Read(ref _startedAt);
        return new SimulatorTotals(Sent, Accepted, Rejected, Failed, Batches,
            eventTicks < 0 ? null : new DateTimeOffset(eventTicks, TimeSpan.Zero),
            startedAt == 0 ? TimeSpan.Zero : _time.GetElapsedTime(startedAt));
    }

    internal void Started(TimeProvider time)
    {
        _time = time;
        Interlocked.Exchange(ref _startedAt, time.GetTimestamp());
    }

    internal void Dispatched(int readings, DateTimeOffset tick)
    {
        Interlocked.Add(ref _sent, readings);
        Interlocked.Increment(ref _batches);
        Interlocked.Exchange(ref _eventTicks, tick.UtcTicks);
    }

    internal void Delivered(SinkResult result)
    {
        Interlocked.Add(ref _accepted, result.Accepted);
        Interlocked.Add(ref _rejected, result.Rejected);
    }

    internal void Lost(int readings) => Interlocked.Add(ref _failed, readings);
}

/// <summary>
/// The simulator's loop, usable without a host (benchmarks, tests): generates the fleet's
/// readings tick by tick, cuts them into batches and hands them to a sink, paced by speed,
/// rate and the wall clock (see <see cref="SimulatorOptions"/>).
/// </summary>
public static class SimulatorRun
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <summary>Runs until <see cref="SimulatorOptions.Duration"/> of event time is sent (or forever without one) and returns the totals.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> fired; batches in flight were awaited first.</exception>
    public static Task<SimulatorTotals> RunAsync(SimulatorOptions options, ITelemetrySink sink, CancellationToken ct) =>
        RunAsync(options, sink, new SimulatorProgress(), TimeProvider.System, NullLogger.Instance, ct);

    /// <inheritdoc cref="RunAsync(SimulatorOptions, ITelemetrySink, CancellationToken)"/>
    public static async Task<SimulatorTotals> RunAsync(SimulatorOptions options, ITelemetrySink sink, SimulatorProgress progress,
        TimeProvider time, ILogger log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(progress);
        var generator = CreateGenerator(options.Validate());
        var now = time.GetUtcNow();
        var start = generator.AlignToTick(options.ResolveStart(now));
        if (start < now - TimeSpan.FromDays(7))
        {
            throw new InvalidOperationException(
                $"{SimulatorOptions.Section}:StartAt {start:O} is more than 7 days ago: ingestion would reject every reading");
        }
        DateTimeOffset? end = options.Duration is { } duration ? start + duration : null;
        var rate = options.EffectiveRate;

        progress.Started(time);
        var startedAt = time.GetTimestamp();
        long scheduled = 0;
        using var slots = new SemaphoreSlim(options.MaxInFlight, options.MaxInFlight);
        try
        {
            for (var tick = start; end is null || tick < end; tick += options.Interval)
            {
                var readings = generator.ReadingsAt(tick);
                var dueBySpeed = (tick - start) / options.Speed;
                for (var offset = 0; offset < readings.Count; offset += options.BatchSize)
                {
                    var batch = Slice(readings, offset, options.BatchSize);
                    var dueByRate = double.IsPositiveInfinity(rate) ? TimeSpan.Zero : TimeSpan.FromSeconds(scheduled / rate);
                    await WaitUntilDueAsync(time, startedAt, Max(dueBySpeed, dueByRate), tick, ct);
                    await slots.WaitAsync(ct);
                    scheduled += batch.Count;
                    progress.Dispatched(batch.Count, tick);
                    _ = DeliverAsync(sink, batch, options.MaxAttempts, progress, slots, time, log, ct);
                }
            }
        }
        finally
        {
            // Every slot back means every batch has its answer (or gave up).
            for (var i = 0; i < options.MaxInFlight; i++)
                await slots.WaitAsync(CancellationToken.None);
        }
        return progress.Snapshot();
    }

    /// <summary>The generator a run with these options uses: the same options give the same readings.</summary>
    public static ReadingGenerator CreateGenerator(SimulatorOptions options) =>
        new(MeterFleet.Create(new SimulationOptions
        {
            Seed = options.Seed,
            MeterCount = options.Meters,
            Interval = options.Interval,
            Regions = options.Regions is { Count: > 0 } regions ? regions : Regions.Defaults,
        }));

    /// <summary>
    /// Waits until the batch is due by speed and rate (offsets from the run's start) and until the
    /// wall clock has reached the tick: event time never runs ahead of the wall clock.
    /// </summary>
    private static async Task WaitUntilDueAsync(TimeProvider time, long startedAt, TimeSpan due, DateTimeOffset tick, CancellationToken ct)
    {
        while (true)
        {
            var wait = Max(due - time.GetElapsedTime(startedAt), tick - time.GetUtcNow());
            if (wait <= TimeSpan.Zero)
                return;
            await Task.Delay(wait, time, ct);
        }
    }

    private static async Task DeliverAsync(ITelemetrySink sink, IReadOnlyList<TelemetryReading> batch, int maxAttempts,
        SimulatorProgress progress, SemaphoreSlim slots, TimeProvider time, ILogger log, CancellationToken ct)
    {
        try
        {
            var backoff = TimeSpan.FromMilliseconds(200);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    progress.Delivered(await sink.SendAsync(batch, ct));
                    return;
                }
                catch (Exception e) when (!ct.IsCancellationRequested && attempt < maxAttempts)
                {
                    log.BatchRetried(e, batch.Count, attempt, backoff);
                    await Task.Delay(backoff, time, ct);
                    backoff = Min(backoff * 2, MaxBackoff);
                }
            }
        }
        catch (Exception e)
        {
            progress.Lost(batch.Count);
            if (!ct.IsCancellationRequested)
                log.BatchLost(e, batch.Count, maxAttempts);
        }
        finally
        {
            slots.Release();
        }
    }

    private static IReadOnlyList<TelemetryReading> Slice(IReadOnlyList<TelemetryReading> readings, int offset, int size)
    {
        var count = Math.Min(size, readings.Count - offset);
        if (offset == 0 && count == readings.Count)
            return readings;
        var batch = new TelemetryReading[count];
        for (var i = 0; i < count; i++)
            batch[i] = readings[offset + i];
        return batch;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
