using System.Net;
using System.Text.Json.Nodes;
using SmartGrid.Integration.Tests.Crash;
using SmartGrid.Integration.Tests.Ingestion;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Metrics;

/// <summary>
/// /metrics of a real node in its own process (so no other spec's readings reach its counters):
/// after readings go through ingestion and the pipeline, the counters moved by exactly what was
/// sent, the route histogram exists per route and status, and the gauges describe the node.
/// </summary>
public sealed class NodeMetricsSpecs(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const string IngestedAccepted = "smartgrid_ingestion_readings_accepted";
    private const string IngestedRejected = "smartgrid_ingestion_readings_rejected";
    private const string Processed = "smartgrid_pipeline_readings_accepted";
    private const string Duplicates = "smartgrid_pipeline_readings_duplicate";
    private const string PersistDuration = "smartgrid_pipeline_persist_duration";
    private const string ConsumerLag = "smartgrid_pipeline_consumer_lag";
    private const string RowsWritten = "smartgrid_storage_rows_written";
    private const string Members = "smartgrid_cluster_members";
    private const string Entities = "smartgrid_cluster_sharding_entities";
    private const string RequestDuration = "microsoft_aspnetcore_hosting_http_server_request_duration";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private TestDatabase _database = null!;
    private NodeProcess _node = null!;
    private HttpClient _ingest = null!;
    private HttpClient _management = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("sg_metrics");
        var ingestPort = FreePort.Next();
        var managementPort = FreePort.Next();
        _node = NodeProcess.Start(
        [
            $"--ConnectionStrings:Postgres={_database.ConnectionString}",
            "--SmartGrid:Roles=ingest,processor",
            "--SmartGrid:Cluster:Port=0",
            $"--SmartGrid:Http:IngestPort={ingestPort}",
            $"--SmartGrid:Http:ManagementPort={managementPort}",
            $"--SmartGrid:Kafka:BootstrapFile={Path.Combine(Path.GetTempPath(), _database.Name, "bootstrap")}",
            "--SmartGrid:Pipeline:IdleClose=00:00:02",
            // The spec's meters are new: a provisioning key registers them.
            "--SmartGrid:Ingestion:RequireRegisteredMeters=false",
        ], Path.Combine(Path.GetTempPath(), _database.Name, "node.log"));
        _ingest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ingestPort}"), Timeout = TimeSpan.FromSeconds(30) };
        _management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}"), Timeout = TimeSpan.FromSeconds(30) };
        await EventuallyAsync(async () =>
            Assert.Equal(HttpStatusCode.OK, (await _management.GetAsync("/health/ready")).StatusCode), "node ready");
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(_database.ConnectionString);
        var (_, secret) = await new SmartGrid.Storage.IngestionKeys(dataSource).CreateAsync("metrics specs", null, canProvision: true, "specs");
        _ingest.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
    }

    [Fact]
    public async Task Should_count_what_was_ingested_rejected_and_processed_and_time_every_route()
    {
        var meters = TestReadings.MeterIds(7_100_001, 5);
        // Two readings per meter, two broken records: 10 accepted, 2 rejected.
        var valid = meters.SelectMany(m => new[] { TestReadings.Valid(m, secondsAgo: 90), TestReadings.Valid(m, secondsAgo: 80) }).ToList();
        var broken = new JsonNode[] { new JsonObject { ["meter_id"] = "nope" }, TestReadings.Valid(meters[0]).Also(r => r["voltage"] = -1) };
        var first = await _ingest.PostAsync("/telemetry/batch", TestReadings.Json(TestReadings.Array(valid.Select(v => v.DeepClone()).Concat(broken))));
        Assert.Equal(HttpStatusCode.MultiStatus, first.StatusCode);
        // The same ten again, as a meter re-sending after a lost answer: ingested twice, processed once.
        var again = await _ingest.PostAsync("/telemetry/batch", TestReadings.Json(TestReadings.Array(valid.Select(v => v.DeepClone()))));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var scrape = await EventuallyAsync(async () =>
        {
            var m = await ScrapeAsync(_ingest);
            Assert.Equal(20, m.Sum(Processed) + m.Sum(Duplicates));
            Assert.Equal(20, m.Sum(RowsWritten, ("table", "raw_readings")));
            Assert.Equal(5, m.Sum(Entities, ("type", "meter")));
            var lags = m.Find(ConsumerLag, ("group", "stream-processor-group"), ("topic", "raw_readings")).ToList();
            Assert.Equal(6, lags.Count);
            Assert.All(lags, l => Assert.Equal(0, l.Value));
            return m;
        }, "pipeline caught up");

        Assert.Equal(20, scrape.Sum(IngestedAccepted));
        Assert.Equal(2, scrape.Sum(IngestedRejected));
        Assert.Equal(10, scrape.Sum(Processed));
        Assert.Equal(10, scrape.Sum(Duplicates));
        Assert.True(scrape.Sum(PersistDuration + "_count") >= 1, "persistence latency recorded");
        Assert.Equal(1, scrape.Sum(Members, ("status", "Up")));
        Assert.DoesNotContain(scrape.Samples, s => s.Name.Contains("_smartgrid_", StringComparison.Ordinal));
        var info = Assert.Single(scrape.Find("smartgrid_cluster_node_info"));
        Assert.Equal("ingest,processor", info.Labels["roles"]);
        Assert.StartsWith("akka.tcp://smartgrid@127.0.0.1:", info.Labels["address"]);

        // One histogram series per route and status, with buckets.
        (string, string)[] batch207 = [("http_route", "/telemetry/batch"), ("http_request_method", "POST"), ("http_response_status_code", "207")];
        (string, string)[] batch200 = [("http_route", "/telemetry/batch"), ("http_request_method", "POST"), ("http_response_status_code", "200")];
        Assert.Equal(1, scrape.Sum(RequestDuration + "_count", batch207));
        Assert.Equal(1, scrape.Sum(RequestDuration + "_count", batch200));
        Assert.Equal(1, scrape.Find(RequestDuration + "_bucket", [.. batch207, ("le", "+Inf")]).Single().Value);
        Assert.True(scrape.Find(RequestDuration + "_bucket", batch207).Count() > 5, "route histogram has buckets");
        Assert.True(scrape.Sum(RequestDuration + "_count", ("http_route", "/health/ready")) >= 1);

        // The management port serves the same registry: a node without an HTTP role is scraped there.
        var management = await ScrapeAsync(_management);
        Assert.Equal(20, management.Sum(IngestedAccepted));
        Assert.True(management.Has("process_cpu_seconds_total"), "process metrics exported");
        Assert.True(management.Has("npgsql_db_client_operation_duration_count"), "Npgsql's meter exported");

        // The platform's names the dashboards use are the ones this node really exports.
        var platform = Dashboards.Expressions().Values.SelectMany(e => e).SelectMany(Dashboards.MetricNames)
            .Where(n => n.StartsWith("microsoft_", StringComparison.Ordinal) || n.StartsWith("npgsql_", StringComparison.Ordinal) || n.StartsWith("process_", StringComparison.Ordinal))
            .Distinct().ToList();
        Assert.NotEmpty(platform);
        Assert.All(platform, name => Assert.True(scrape.Has(name), $"dashboards query {name}, which the node does not export"));
    }

    private static async Task<PrometheusText> ScrapeAsync(HttpClient http)
    {
        var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    private async Task<T> EventuallyAsync<T>(Func<Task<T>> attempt, string what)
    {
        var until = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or HttpRequestException or TaskCanceledException && DateTime.UtcNow < until)
            {
                if (_node.HasExited) throw new InvalidOperationException($"node exited ({_node.ExitCode}) waiting for {what}:\n{_node.Tail()}", e);
                await Task.Delay(500);
            }
            catch (Exception) when (DateTime.UtcNow >= until)
            {
                output.WriteLine(_node.Tail());
                throw;
            }
        }
    }

    private Task<bool> EventuallyAsync(Func<Task> attempt, string what) =>
        EventuallyAsync(async () => { await attempt(); return true; }, what);

    public void Dispose()
    {
        _ingest?.Dispose();
        _management?.Dispose();
    }

    public async Task DisposeAsync()
    {
        _node?.Dispose();
        if (_database is not null) await _database.DisposeAsync();
    }
}

internal static class JsonNodeExtensions
{
    public static JsonNode Also(this JsonObject node, Action<JsonObject> change)
    {
        change(node);
        return node;
    }
}
