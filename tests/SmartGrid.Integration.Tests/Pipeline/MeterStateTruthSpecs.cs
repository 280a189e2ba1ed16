using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>The meter's window logic alone against the same ground truth, cut into batches of any size.</summary>
public sealed class MeterStateTruthSpecs
{
    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(7, 0.0)]
    [InlineData(500, 0.0)]
    [InlineData(3, 0.3)]
    [InlineData(11, 0.5)]
    public void Should_publish_windows_equal_to_the_ground_truth_whatever_the_batching(int batchSize, double idleBetweenBatches)
    {
        var random = new Random(batchSize);
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(2), WindowSize.FifteenMinutes);
        var stream = ReadingScenario.Generate(meters: 40, span: TimeSpan.FromMinutes(32), start, seed: 7);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        var policy = new MeterPolicy { AllowedLateness = PipelineNode.Lateness };
        var published = new Dictionary<(string, WindowSize, DateTimeOffset), EmittedWindow>();
        var voltageEvents = new Dictionary<(string, DateTimeOffset), (string, DateTimeOffset?, double)>();
        var interruptions = new Dictionary<(string, DateTimeOffset), (string, DateTimeOffset?)>();

        foreach (var meter in stream.GroupBy(r => r.MeterId))
        {
            var state = new MeterState(meter.Key);
            // The last, empty batch is the idle timer closing what is left.
            // An idle close between batches (a stalled partition) publishes windows early; later readings amend them.
            var batches = meter.Chunk(batchSize)
                .SelectMany(b => random.NextDouble() < idleBetweenBatches ? [b, Array.Empty<TelemetryReading>()] : new[] { b })
                .Append(Array.Empty<TelemetryReading>());
            foreach (var batch in batches)
            {
                foreach (var e in state.Decide(batch, idle: batch.Length == 0, policy))
                {
                    if (e is ReadingsAccepted r) state.Apply(r, policy);
                    if (e is VoltageEventsObserved v)
                        foreach (var ve in v.Events)
                            voltageEvents[(ve.MeterId, ve.Start)] = (SmartGrid.Domain.PowerQuality.VoltageWindow.WireName(ve.Kind), ve.End, ve.ExtremeVoltage);
                    if (e is CustomerInterruptionsObserved c)
                        foreach (var i in c.Interruptions)
                            interruptions[(i.MeterId, i.Start)] = (SmartGrid.Domain.Reliability.CustomerInterruption.WireName(i.StartedBy), i.End);
                    if (e is WindowsEmitted w)
                    {
                        state.Apply(w, policy);
                        foreach (var window in w.Windows)
                        {
                            var key = (window.Aggregate.MeterId, window.Aggregate.Size, window.Aggregate.WindowStart);
                            Assert.True(!published.TryGetValue(key, out var before) || before.Revision < window.Revision);
                            published[key] = window;
                        }
                    }
                }
            }
        }

        foreach (var (key, row) in truth.OneMinute)
        {
            Assert.True(published.TryGetValue((key.Meter, WindowSize.OneMinute, key.Start), out var w),
                $"missing {key}; published for it: {string.Join(",", published.Keys.Where(k => k.Item1 == key.Meter && k.Item2 == WindowSize.OneMinute).Select(k => k.Item3.ToString("HH:mm")))}");
            Assert.Equal(row.Count, w.Aggregate.ReadingCount);
            Assert.True(GroundTruth.Close(row.PowerSum, w.Aggregate.PowerKwSum) && GroundTruth.Close(row.EnergySum, w.Aggregate.EnergyKwhSum), $"{key}: sums differ");
        }
        Assert.Equal(truth.OneMinute.Count, published.Keys.Count(k => k.Item2 == WindowSize.OneMinute));
        Assert.Equal(truth.FifteenMinutes.Count, published.Keys.Count(k => k.Item2 == WindowSize.FifteenMinutes));
        // The sags and swells the scenario holds, decided the same whatever the batching.
        Assert.True(truth.VoltageEvents.Count > 20, $"scenario too tame: {truth.VoltageEvents.Count} voltage events");
        Assert.Equal(truth.VoltageEvents.OrderBy(e => e.Key).ToList(), voltageEvents.OrderBy(e => e.Key).ToList());
        // The outages: last gasps and silences, momentary and sustained.
        Assert.True(truth.Interruptions.Count > 10 && truth.Interruptions.Values.Any(i => i.StartedBy == "silence")
            && truth.Interruptions.Values.Any(i => i.StartedBy == "last-gasp"), $"scenario too tame: {truth.Interruptions.Count} interruptions");
        Assert.Equal(truth.Interruptions.OrderBy(e => e.Key).ToList(), interruptions.OrderBy(e => e.Key).ToList());
    }
}
