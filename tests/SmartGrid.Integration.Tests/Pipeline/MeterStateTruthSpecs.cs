using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>The meter's window logic alone against the same ground truth, cut into batches of any size.</summary>
public sealed class MeterStateTruthSpecs
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(500)]
    public void Should_publish_windows_equal_to_the_ground_truth_whatever_the_batching(int batchSize)
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(2), WindowSize.FifteenMinutes);
        var stream = ReadingScenario.Generate(meters: 40, span: TimeSpan.FromMinutes(32), start, seed: 7);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        var policy = new MeterPolicy { AllowedLateness = PipelineNode.Lateness };
        var published = new Dictionary<(string, WindowSize, DateTimeOffset), EmittedWindow>();

        foreach (var meter in stream.GroupBy(r => r.MeterId))
        {
            var state = new MeterState(meter.Key);
            // The last, empty batch is the idle timer closing what is left.
            foreach (var batch in meter.Chunk(batchSize).Append(Array.Empty<TelemetryReading>()))
            {
                foreach (var e in state.Decide(batch, idle: batch.Length == 0, policy))
                {
                    if (e is ReadingsAccepted r) state.Apply(r);
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
        }
        Assert.Equal(truth.OneMinute.Count, published.Keys.Count(k => k.Item2 == WindowSize.OneMinute));
        Assert.Equal(truth.FifteenMinutes.Count, published.Keys.Count(k => k.Item2 == WindowSize.FifteenMinutes));
    }
}
