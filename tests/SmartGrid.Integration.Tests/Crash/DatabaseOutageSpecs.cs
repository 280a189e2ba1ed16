using System.Diagnostics;
using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Pipeline;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Crash;

/// <summary>
/// PostgreSQL goes away mid-stream and comes back: the node reaches it through a <see cref="TcpLink"/>
/// that resets every connection and refuses new ones, as a crashed server would. Readings keep
/// arriving during the outage; once the database is back, processing resumes within a few seconds
/// (not after the stream's longest back-off or a minute-long ask) and every reading counts once.
/// </summary>
public sealed class DatabaseOutageSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    /// <summary>Measured 25–35 s on a loaded machine (87 s before: the stream waited out minute-long asks to meters that died with the database).</summary>
    private static readonly TimeSpan ResumeDeadline = TimeSpan.FromSeconds(50);

    [Fact]
    public async Task Should_resume_processing_within_seconds_of_postgres_coming_back_and_count_every_reading_once()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(2), WindowSize.FifteenMinutes);
        var stream = ReadingScenario.Generate(meters: 200, span: TimeSpan.FromMinutes(12), start, seed: 50);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        var before = stream.Take(stream.Count / 3).ToList();
        var live = stream.Skip(before.Count).Chunk(200).ToList();

        await using var database = await TestDatabase.CreateAsync("sg_dboutage");
        var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var link = TcpLink.To(server.Host!, server.Port);
        var viaLink = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = link.Port }.ConnectionString;
        await using var node = await PipelineNode.StartAsync(database, viaLink, "processor");

        await PipelineNode.ProduceAsync(node.KafkaBootstrap, before);
        await WaitUntilAsync(async () => await CountAsync(database, "SELECT count(*) FROM aggregates_1m") > 0, TimeSpan.FromSeconds(60));

        // Readings keep arriving at a steady pace, so checkpoints are in flight when the database goes away.
        var pace = (Outage + TimeSpan.FromSeconds(3)) / live.Count;
        var producing = Task.Run(async () =>
        {
            foreach (var chunk in live)
            {
                await PipelineNode.ProduceAsync(node.KafkaBootstrap, chunk);
                await Task.Delay(pace);
            }
        });
        await Task.Delay(TimeSpan.FromSeconds(3));
        link.Cut();
        await Task.Delay(Outage);
        link.Restore();
        var back = Stopwatch.StartNew();
        await producing;

        await PipelineAssertions.WaitForTruthAsync(database.ConnectionString, truth, ResumeDeadline, output);
        output.WriteLine($"database away {Outage.TotalSeconds:0} s; every reading counted once {back.Elapsed.TotalSeconds:0.0} s after it came back " +
                         $"({stream.Count} readings, {truth.Accepted} accepted)");
    }

    private static async Task<long> CountAsync(TestDatabase database, string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"not reached within {timeout}");
            await Task.Delay(250);
        }
    }
}
