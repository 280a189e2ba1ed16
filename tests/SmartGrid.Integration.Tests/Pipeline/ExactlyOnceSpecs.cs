using SmartGrid.Domain.Telemetry;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>Readings → Kafka → meters → regions → tables, compared with a ground truth computed independently.</summary>
public sealed class ExactlyOnceSpecs(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_store_every_accepted_reading_exactly_once_despite_duplicates_disorder_and_stragglers()
    {
        var start = Floor15(DateTimeOffset.UtcNow - TimeSpan.FromHours(2));
        var stream = ReadingScenario.Generate(meters: 40, span: TimeSpan.FromMinutes(32), start, seed: 7);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        Assert.True(truth.Duplicates > 100 && truth.TooLate > 5, $"scenario too tame: {truth.Duplicates} duplicates, {truth.TooLate} too late");

        await using var node = await PipelineNode.StartAsync();
        await PipelineNode.ProduceAsync(node.KafkaBootstrap, stream);

        await PipelineAssertions.WaitForTruthAsync(node.Database.ConnectionString, truth, TimeSpan.FromSeconds(90), output);
        output.WriteLine($"{stream.Count} sent, {truth.Accepted} accepted, {truth.Duplicates} duplicates, {truth.TooLate} too late; " +
                         $"{truth.OneMinute.Count} 1m rows, {truth.FifteenMinutes.Count} 15m rows");
    }

    private static DateTimeOffset Floor15(DateTimeOffset t) => Window.Floor(t, WindowSize.FifteenMinutes);
}
