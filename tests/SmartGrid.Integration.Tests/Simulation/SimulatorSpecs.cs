using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Ingestion;
using SmartGrid.Simulator;

namespace SmartGrid.Integration.Tests.Simulation;

/// <summary>The simulator's run loop: determinism, pacing, and delivery over HTTP to a real ingestion endpoint.</summary>
[Collection(IngestionCollection.Name)]
public sealed class SimulatorSpecs(IngestionFixture fixture)
{
    /// <summary>Whole ticks an hour ago: inside ingestion's 7-day window, and never waited for.</summary>
    private static DateTimeOffset AnHourAgo()
    {
        var t = DateTimeOffset.UtcNow.AddHours(-1);
        return new DateTimeOffset(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
    }

    [Fact]
    public async Task Should_deliver_the_expected_readings_over_http_to_the_ingestion_endpoint()
    {
        var options = new SimulatorOptions
        {
            Meters = 200,
            Seed = 42,
            Interval = TimeSpan.FromSeconds(10),
            StartAt = AnHourAgo(),
            Duration = TimeSpan.FromMinutes(5),
            Speed = 10_000,
            Rate = 0,
            IngestUrl = fixture.Host.IngestUrl.ToString(),
        };
        var expected = Expected(options);
        Assert.InRange(expected.Count, 5_500, 6_000); // 30 ticks × 200 meters, less any outages

        using var http = new HttpClient();
        var totals = await SimulatorRun.RunAsync(options, new HttpTelemetrySink(http, options.EffectiveIngestUrl, fixture.ProvisioningKey), CancellationToken.None);

        Assert.Equal(expected.Count, totals.Sent);
        Assert.Equal(expected.Count, totals.Accepted);
        Assert.Equal(0, totals.Rejected);
        Assert.Equal(0, totals.Failed);
        Assert.Equal(options.StartAt!.Value + TimeSpan.FromSeconds(290), totals.EventTime);

        var meterIds = Enumerable.Range(1, options.Meters).Select(i => $"MTR-{i:D8}").ToHashSet();
        var published = fixture.ReadTopic(meterIds)
            .Select(r => (r.Message.Key, Reading: JsonSerializer.Deserialize<TelemetryReading>(r.Message.Value)!))
            .Where(r => r.Reading.Timestamp >= options.StartAt && r.Reading.Timestamp < options.StartAt + options.Duration)
            .ToList();
        Assert.All(published, r => Assert.Equal(r.Key, r.Reading.MeterId));
        Assert.All(published, r => Assert.NotNull(r.Reading.IngestedAt));
        var received = published.Select(r => r.Reading with { IngestedAt = null }).ToHashSet();
        Assert.Equal(expected.Count, published.Count);
        Assert.True(received.SetEquals(expected), "raw_readings holds other readings than the generator's");
    }

    [Fact]
    public async Task Should_produce_the_same_readings_from_the_same_seed_and_other_ones_from_another()
    {
        var options = new SimulatorOptions
        {
            Meters = 50, Seed = 7, StartAt = AnHourAgo(), Duration = TimeSpan.FromMinutes(2), Speed = 10_000, Rate = 0, BatchSize = 64,
        };

        var first = await CollectAsync(options);
        var second = await CollectAsync(options);
        var otherSeed = await CollectAsync(options with { Seed = 8 });

        Assert.Equal(Expected(options).Count, first.Count);
        Assert.Equal(first.OrderBy(Key), second.OrderBy(Key));
        Assert.NotEqual(first.OrderBy(Key), otherSeed.OrderBy(Key));

        static string Key(TelemetryReading r) => $"{r.MeterId}@{r.Timestamp.UtcTicks}";
    }

    [Fact]
    public async Task Should_never_send_a_reading_stamped_after_the_wall_clock_at_real_time_speed()
    {
        var sink = new RecordingSink();
        var options = new SimulatorOptions { Meters = 20, Interval = TimeSpan.FromSeconds(1), Duration = TimeSpan.FromSeconds(3), BatchSize = 10 };

        var totals = await SimulatorRun.RunAsync(options, sink, CancellationToken.None);

        Assert.True(totals.Sent > 0);
        Assert.Equal(3, sink.Batches.Select(b => b.Readings[0].Timestamp).Distinct().Count());
        Assert.All(sink.Batches, b => Assert.True(b.Readings.Max(r => r.Timestamp) <= b.SentAt,
            $"a reading stamped {b.Readings.Max(r => r.Timestamp):O} was sent at {b.SentAt:O}"));
    }

    [Fact]
    public async Task Should_keep_to_the_rate_cap()
    {
        var sink = new RecordingSink();
        var options = new SimulatorOptions
        {
            Meters = 100, Interval = TimeSpan.FromSeconds(1), StartAt = AnHourAgo(), Duration = TimeSpan.FromSeconds(2),
            Speed = 10_000, Rate = 400, BatchSize = 50,
        };

        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var totals = await SimulatorRun.RunAsync(options, sink, CancellationToken.None);

        // The last batch may go once the 150 (or so) readings before it have had their share of 400/s.
        var lastStartsAfter = TimeSpan.FromSeconds((totals.Sent - sink.Batches[^1].Readings.Count) / 400.0);
        Assert.True(clock.Elapsed >= lastStartsAfter - TimeSpan.FromMilliseconds(20), $"{totals.Sent} readings took only {clock.Elapsed}");
        // Each batch, not only the last, waits for the readings dispatched before it (tick, then meter order):
        // the cap holds throughout the run. A lower bound only, so a slow machine cannot fail it; how fast the
        // run goes is `./build.sh bench generator`'s figure, not a promise here.
        var batches = sink.Batches.OrderBy(b => b.Readings[0].Timestamp).ThenBy(b => b.Readings[0].MeterId, StringComparer.Ordinal).ToList();
        var before = 0;
        foreach (var batch in batches)
        {
            var due = TimeSpan.FromSeconds(before / 400.0) - TimeSpan.FromMilliseconds(20);
            Assert.True(batch.SentAt - startedAt >= due, $"a batch went {batch.SentAt - startedAt} into the run, after {before} readings");
            before += batch.Readings.Count;
        }
        Assert.Equal((totals.Sent, 0L), (totals.Accepted, totals.Failed));
        Assert.Equal(totals.Sent, before);
    }

    [Fact]
    public void Should_start_a_compressed_stream_in_the_past_so_it_never_runs_ahead()
    {
        var now = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(now, new SimulatorOptions().ResolveStart(now));
        Assert.Equal(now - TimeSpan.FromHours(6), new SimulatorOptions { Speed = 60, Duration = TimeSpan.FromHours(6) }.ResolveStart(now));
        Assert.Equal(now - SimulatorOptions.MaxLookback, new SimulatorOptions { Speed = 60 }.ResolveStart(now));
        Assert.Equal(now - SimulatorOptions.MaxLookback, new SimulatorOptions { Speed = 60, Duration = TimeSpan.FromDays(30) }.ResolveStart(now));
        Assert.Equal(5_000 / 10.0 * 60, new SimulatorOptions { Speed = 60 }.EffectiveRate);
        Assert.Equal(double.PositiveInfinity, new SimulatorOptions { Rate = 0 }.EffectiveRate);
    }

    private static HashSet<TelemetryReading> Expected(SimulatorOptions options)
    {
        var generator = SimulatorRun.CreateGenerator(options);
        var expected = new HashSet<TelemetryReading>();
        for (var tick = options.StartAt!.Value; tick < options.StartAt.Value + options.Duration!.Value; tick += options.Interval)
            expected.UnionWith(generator.ReadingsAt(tick));
        return expected;
    }

    private static async Task<List<TelemetryReading>> CollectAsync(SimulatorOptions options)
    {
        var sink = new RecordingSink();
        await SimulatorRun.RunAsync(options, sink, CancellationToken.None);
        return sink.Batches.SelectMany(b => b.Readings).ToList();
    }

    private sealed class RecordingSink : ITelemetrySink
    {
        private readonly ConcurrentQueue<(DateTimeOffset SentAt, IReadOnlyList<TelemetryReading> Readings)> _batches = new();

        public List<(DateTimeOffset SentAt, IReadOnlyList<TelemetryReading> Readings)> Batches => _batches.ToList();

        public Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct)
        {
            _batches.Enqueue((DateTimeOffset.UtcNow, batch));
            return Task.FromResult(new SinkResult(batch.Count, 0));
        }
    }
}
