using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Hosting;
using SmartGrid.Node;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// <c>GET /api/v1/meters/{id}/status</c> on a real node: the gateway asks the meter shard region of
/// its cluster, and the meter entity answers with what it holds, here readings recorded and
/// checkpointed into its PostgreSQL journal just before. (The gateway specs answer from a fake shard.)
/// </summary>
public sealed class MeterStatusRouteSpecs
{
    private const string Password = "Status-Route-Specs-2026";

    [Fact]
    public async Task Should_answer_with_the_live_state_of_the_meter_entity_in_the_shard()
    {
        await using var node = await PipelineNode.StartAsync("processor,gateway",
            "--environment=Development", $"--{DemoAccountSeeder.PasswordSetting}={Password}");
        using var http = new HttpClient
        {
            BaseAddress = new Uri($"http://127.0.0.1:{node.App.Services.GetRequiredService<SmartGridOptions>().Http.GatewayPort}"),
        };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { email = DemoAccountSeeder.AdminEmail, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString());

        const string meter = "MTR-66000001";
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meter, region = "Nashik" })).StatusCode);
        var at = new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);
        TelemetryReading[] readings = [PipelineNode.Reading(meter, at), PipelineNode.Reading(meter, at.AddSeconds(10)), PipelineNode.Reading(meter, at.AddSeconds(20))];
        var recorded = await node.Meters.Ask<ReadingsRecorded>(RecordReadings.Of(meter, [.. readings, readings[0]]), TimeSpan.FromSeconds(30));
        await node.Meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, recorded.Incarnation), TimeSpan.FromSeconds(30));

        var status = await http.GetFromJsonAsync<JsonElement>($"/api/v1/meters/{meter}/status");

        Assert.Equal((meter, "Nashik"), (status.GetProperty("meter_id").GetString(), status.GetProperty("region").GetString()));
        Assert.Equal((3L, 1L, 0L), (status.GetProperty("accepted_total").GetInt64(), status.GetProperty("duplicates_total").GetInt64(),
            status.GetProperty("too_late_total").GetInt64()));
        Assert.Equal(at.AddSeconds(20), status.GetProperty("last_reading_at").GetDateTimeOffset());
        var windows = status.GetProperty("open_windows").EnumerateArray().ToList();
        Assert.Equal(2, windows.Count); // the 09:00 minute and quarter-hour, not yet closed
        Assert.All(windows, w => Assert.Equal((at, 3), (w.GetProperty("window_start").GetDateTimeOffset(), w.GetProperty("reading_count").GetInt32())));

        // A meter nobody registered is refused before any entity starts for it.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/meters/MTR-66000002/status")).StatusCode);
        Assert.False(await node.IsLiveAsync("MTR-66000002"));
    }
}
