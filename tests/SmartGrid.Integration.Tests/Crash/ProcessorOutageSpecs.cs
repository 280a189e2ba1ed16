using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Integration.Tests.Pipeline;
using SmartGrid.Kafka;
using SmartGrid.Node;
using SmartGrid.Ingestion;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Crash;

/// <summary>
/// The 30-minute processor outage, time-compressed: ingestion (with the embedded broker in its process)
/// acknowledges 30 minutes of a grid's readings while no processor runs, then the processor starts and every
/// acknowledged reading is counted exactly once.
/// <para>
/// Full scale, 30 minutes at 500 readings/s are 900,000 readings, 150,000 per partition; the embedded broker
/// keeps about 120,000 such readings per partition (measured: the low watermark first moved at 687,000 readings
/// in batches of 50) and would have dropped the oldest. The spec compresses both sides by the same order:
/// 600 meters every 10 s (119,000 readings, 20,000 per partition) against a broker budget of 5,000 per partition
/// (default 40,000), so most of the outage waits in the ingest ledger, as it would at full scale.
/// </para>
/// </summary>
public sealed class ProcessorOutageSpecs(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan TruthDeadline = TimeSpan.FromSeconds(150);
    private const int BatchSize = 50;
    private const int Parallel = 4;
    private const int BrokerBudget = 5_000;

    private readonly int _ingestPort = FreePort.Next();
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), $"sg-outage-{Guid.NewGuid():N}");
    private PipelineNode _ingest = null!;
    private NodeProcess? _processor;
    private bool _passed;

    public async Task InitializeAsync() =>
        _ingest = await PipelineNode.StartAsync("ingest", $"--SmartGrid:Http:IngestPort={_ingestPort}", $"--SmartGrid:Ingestion:MaxBrokerBacklog={BrokerBudget}");

    [Fact]
    public async Task Should_count_every_reading_acknowledged_during_a_30_minute_processor_outage_exactly_once()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(3), WindowSize.FifteenMinutes);
        var stream = ReadingScenario.Generate(meters: 600, span: TimeSpan.FromMinutes(30), start, seed: 30);
        var truth = GroundTruth.Of(stream, PipelineNode.Lateness);
        output.WriteLine($"outage: {stream.Count} readings of 600 meters over 30 minutes of event time ({stream.Count / 1800.0:0} readings/s), " +
                         $"{truth.Accepted} to count, {truth.Duplicates} duplicates, {truth.TooLate} too late");
        var batches = stream.Chunk(BatchSize).ToList();

        try
        {
            // No processor runs: ingestion goes on acknowledging.
            var posting = Stopwatch.StartNew();
            using var http = await _ingest.HeadEndClientAsync(stream.Select(r => (r.MeterId, r.Region!)).Distinct());
            await ForEachInOrderAsync(batches, async batch =>
            {
                using var response = await http.PostAsync("/telemetry/batch", new StringContent(JsonSerializer.Serialize(batch), Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            });
            var backlog = _ingest.App.Services.GetRequiredService<LedgerBacklog>();
            output.WriteLine($"all acknowledged in {posting.Elapsed.TotalSeconds:0.0} s; the ledger holds {backlog.Readings} readings, pump throttled: {backlog.Throttled}");
            Assert.Equal(stream.Count, backlog.Readings);
            Assert.True(backlog.Throttled, "the pump never reached the broker's budget: the outage was too short to prove anything");
            Assert.All(LowWatermarks(_ingest.KafkaBootstrap), low => Assert.Equal(0, low)); // the broker dropped nothing
            Assert.All(Backlogs(_ingest.KafkaBootstrap), records => Assert.InRange(records, 0, BrokerBudget + BatchSize * Parallel));

            // The processor comes back.
            var back = Stopwatch.StartNew();
            _processor = NodeProcess.Start(
            [
                $"--ConnectionStrings:Postgres={_ingest.Database.ConnectionString}",
                "--SmartGrid:Roles=processor",
                $"--SmartGrid:Cluster:Port={FreePort.Next()}",
                $"--SmartGrid:Kafka:BootstrapServers={_ingest.KafkaBootstrap}",
                "--SmartGrid:Pipeline:IdleClose=00:00:02",
                $"--SmartGrid:Pipeline:AllowedLateness={PipelineNode.Lateness}",
                "--SmartGrid:Simulator:Enabled=false",
                "--SmartGrid:Management:Enabled=false",
                $"--SmartGrid:Http:ManagementPort={FreePort.Next()}",
            ], Path.Combine(_logDir, "processor.log"));
            await PipelineAssertions.WaitForTruthAsync(_ingest.Database.ConnectionString, truth, TruthDeadline, output);
            var truthAt = back.Elapsed;
            var until = DateTime.UtcNow + TruthDeadline;
            while (backlog.Rows > 0 || await LedgerRowsAsync() > 0)
            {
                Assert.True(DateTime.UtcNow < until, $"the ledger still holds {backlog.Rows} rows after the processor caught up");
                await Task.Delay(250);
            }
            await PipelineAssertions.WaitForTruthAsync(_ingest.Database.ConnectionString, truth, TimeSpan.FromSeconds(10), output);
            Assert.All(LowWatermarks(_ingest.KafkaBootstrap), low => Assert.Equal(0, low));
            output.WriteLine($"processor back → ground truth in {truthAt.TotalSeconds:0.0} s, ledger empty after {back.Elapsed.TotalSeconds:0.0} s");
            _passed = true;
        }
        catch when (_processor is not null)
        {
            output.WriteLine($"--- processor (pid {_processor.Id}), log {_processor.LogFile}, last lines:");
            output.WriteLine(_processor.Tail());
            throw;
        }
    }

    /// <summary>Sends the batches in order, a few at a time: reordering stays within seconds of event time, well inside the lateness.</summary>
    private static async Task ForEachInOrderAsync(List<TelemetryReading[]> batches, Func<TelemetryReading[], Task> send)
    {
        foreach (var group in batches.Chunk(Parallel))
            await Task.WhenAll(group.Select(send));
    }

    private static List<long> LowWatermarks(string bootstrap) => Watermarks(bootstrap).Select(m => m.Low.Value).ToList();

    /// <summary>Records on each raw_readings partition (nothing has been consumed: the processor group never committed).</summary>
    private static List<long> Backlogs(string bootstrap) => Watermarks(bootstrap).Select(m => m.High.Value - m.Low.Value).ToList();

    private static List<WatermarkOffsets> Watermarks(string bootstrap)
    {
        KafkaNative.EnsureLoaded();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "outage-specs-watermarks", EnableAutoCommit = false,
        }).Build();
        return Enumerable.Range(0, Topics.RawReadings.Partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(Topics.RawReadings, p), TimeSpan.FromSeconds(5)))
            .ToList();
    }

    private async Task<long> LedgerRowsAsync()
    {
        await using var conn = new NpgsqlConnection(_ingest.Database.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM ingest_ledger", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        _processor?.Dispose();
        if (_passed && Directory.Exists(_logDir)) Directory.Delete(_logDir, recursive: true);
        if (_ingest is not null) await _ingest.DisposeAsync();
    }
}
