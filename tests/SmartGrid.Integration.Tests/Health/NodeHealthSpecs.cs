using System.Net;
using System.Text.Json;
using SmartGrid.Integration.Tests.Pipeline;

namespace SmartGrid.Integration.Tests.Health;

/// <summary>A node answers its probes: live always, ready once PostgreSQL, Redis, Kafka and its cluster membership are fine.</summary>
public sealed class NodeHealthSpecs
{
    /// <summary>Readiness details (each check and why) are for the operator: they need the management token.</summary>
    public const string ManagementToken = "health-spec-token-0123456789";

    public static string[] WithManagementToken(int healthPort) =>
    [
        $"--SmartGrid:Http:ManagementPort={healthPort}", $"--SmartGrid:Management:Port={FreePort.Next()}",
        $"--SmartGrid:Management:Token={ManagementToken}",
    ];

    public static HttpClient Operator(int port) => new()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ManagementToken) },
    };

    [Fact]
    public async Task Should_report_live_and_ready_with_every_dependency_checked()
    {
        var port = FreePort.Next();
        await using var node = await PipelineNode.StartAsync("processor", WithManagementToken(port));
        using var http = Operator(port);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);

        JsonElement ready = default;
        HttpStatusCode status = default;
        for (var attempt = 0; attempt < 60 && status != HttpStatusCode.OK; attempt++)
        {
            var response = await http.GetAsync("/health/ready");
            status = response.StatusCode;
            ready = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            if (status != HttpStatusCode.OK) await Task.Delay(500);
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        var checks = ready.GetProperty("checks");
        foreach (var name in new[] { "postgres", "redis", "kafka", "cluster" })
            Assert.Equal("Healthy", checks.GetProperty(name).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Should_not_be_ready_when_the_database_is_gone()
    {
        var port = FreePort.Next();
        await using var node = await PipelineNode.StartAsync("processor", WithManagementToken(port));
        using var http = Operator(port);
        await DropAsync(node.Database.Name);

        var response = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var checks = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("checks");
        Assert.Equal("Unhealthy", checks.GetProperty("postgres").GetProperty("status").GetString());
        Assert.Contains("PostgreSQL", checks.GetProperty("postgres").GetProperty("description").GetString());
        // The process itself is fine: liveness must not make an orchestrator kill it for a database outage.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Should_stay_ready_but_degraded_when_redis_is_gone()
    {
        using var redis = await RedisServer.StartAsync();
        var port = FreePort.Next();
        await using var node = await PipelineNode.StartAsync("processor",
            [.. WithManagementToken(port), $"--ConnectionStrings:Redis={redis.ConnectionString}"]);
        using var http = Operator(port);
        await EventuallyReadyAsync(http);
        await redis.StopAsync();

        var response = await http.GetAsync("/health/ready");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Degraded", body.GetProperty("status").GetString());
        Assert.Equal("Degraded", body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
    }

    private static async Task EventuallyReadyAsync(HttpClient http)
    {
        for (var attempt = 0; attempt < 60; attempt++)
        {
            if ((await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK) return;
            await Task.Delay(500);
        }
        Assert.Fail("the node did not become ready within 30 s");
    }

    private static async Task DropAsync(string database)
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var admin = new Npgsql.NpgsqlConnection(TestDatabase.ServerConnectionString);
        await admin.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin);
        await cmd.ExecuteNonQueryAsync();
    }
}
