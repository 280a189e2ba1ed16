using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;
using SmartGrid.Integration.Tests.Pipeline;
using SmartGrid.Storage;
using Xunit.Abstractions;
using static SmartGrid.Integration.Tests.Pipeline.NodeHttp;

namespace SmartGrid.Integration.Tests.PowerQuality;

/// <summary>
/// Readings with known sags, an interruption and a swell, sent twice over through Kafka to a real
/// node: voltage_10m and the power-quality routes must answer what the readings say, exactly once.
/// </summary>
public sealed class PowerQualityRouteSpecs(ITestOutputHelper output)
{
    internal const string Password = "Power-Quality-Specs-2026";
    private const string Disturbed = "MTR-77000001";
    private const string Steady = "MTR-77000002";

    /// <summary>Reading i of a meter is at start + 10 i s; 230 V ± 2 V, except the runs the spec sets.</summary>
    private static List<TelemetryReading> Readings(string meter, DateTimeOffset start, Func<int, double?> disturbance) =>
        Enumerable.Range(0, 120).Select(i => PipelineNode.Reading(meter, start.AddSeconds(10 * i)) with
        {
            Voltage = disturbance(i) ?? 230 + i % 5 - 2,
        }).ToList();

    private static double? Disturbance(int i) => i switch
    {
        30 => 190, 31 => 180, 32 => 185, 33 => 200, 34 => 195, 35 => 199,     // sag, readings 30–35
        >= 60 and < 68 => i % 2 == 0 ? 1 : 3,                                  // interruption, readings 60–67
        90 => 260, 91 => 265, 92 => 258,                                       // swell, readings 90–92
        _ => null,
    };

    [Fact]
    public async Task Should_answer_the_10_minute_windows_compliance_and_events_the_readings_hold_exactly_once()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(3), WindowSize.FifteenMinutes);
        start = start.AddMinutes(-start.Minute);
        var disturbed = Readings(Disturbed, start, Disturbance);
        var steady = Readings(Steady, start, _ => null);
        await using var node = await PipelineNode.StartAsync("processor,gateway",
            "--environment=Development", $"--{DemoAccountSeeder.PasswordSetting}={Password}");
        await node.App.Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync([(Disturbed, "Nashik"), (Steady, "Nashik")]);
        // The whole stream twice: duplicates (within the de-duplication horizon) the meters must drop.
        var stream = disturbed.Zip(steady, (a, b) => new[] { a, b }).SelectMany(p => p).ToList();
        await PipelineNode.ProduceAsync(node.KafkaBootstrap, stream.Concat(stream).ToList());

        using var http = await LoginAsync(node, DemoAccountSeeder.AdminEmail);
        var meter = await WaitForAsync(http, $"/api/v1/power-quality/meters/{Disturbed}?from={Q(start)}&to={Q(start.AddHours(1))}",
            m => m.GetProperty("items").EnumerateArray().Sum(w => w.GetProperty("sample_count").GetInt32()) == 120 && m.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("end").ValueKind != JsonValueKind.Null) == 3);

        // The truth, from the readings: bucket means and extremes, and the three runs by hand.
        var rows = await node.App.Services.GetRequiredService<AggregateQueries>().GetVoltageWindowsAsync(Disturbed, null, start, start.AddHours(1));
        var truth = disturbed.GroupBy(r => start.AddMinutes(r.Timestamp >= start.AddMinutes(10) ? 10 : 0))
            .Select(g => new VoltageWindowRow(Disturbed, "Nashik", g.Key, g.Count(), g.Average(r => r.Voltage), g.Min(r => r.Voltage), g.Max(r => r.Voltage)))
            .ToList();
        Assert.Equal(truth.Select(t => (t.WindowStart, t.SampleCount, t.Min, t.Max)), rows.Select(r => (r.WindowStart, r.SampleCount, r.Min, r.Max)));
        Assert.Equal(truth.Select(t => Math.Round(t.Mean, 9)), rows.Select(r => Math.Round(r.Mean, 9)));

        // Bucket 1 (sag) has a mean near 228 V, within ±10 %; bucket 2 (eight readings of 1–3 V) about 201.3 V, outside: 50 %, not compliant.
        Assert.Equal((2, 0.5, false), (meter.GetProperty("windows").GetInt32(), meter.GetProperty("within_band_share").GetDouble(), meter.GetProperty("compliant").GetBoolean()));
        Assert.Equal(
            [("sag", start.AddSeconds(300), start.AddSeconds(360), 180.0), ("interruption", start.AddSeconds(600), start.AddSeconds(680), 1.0),
             ("swell", start.AddSeconds(900), start.AddSeconds(930), 265.0)],
            meter.GetProperty("events").EnumerateArray().Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("start").GetDateTimeOffset(),
                e.GetProperty("end").GetDateTimeOffset(), e.GetProperty("extreme_voltage").GetDouble())).ToList());

        // The region, asked in another case: the disturbed meter is the worst, the steady one compliant.
        var region = await http.GetFromJsonAsync<JsonElement>($"/api/v1/power-quality/nodes/nashik?from={Q(start)}&to={Q(start.AddHours(1))}");
        Assert.Equal(("Nashik", 2, 1, false), (region.GetProperty("node_id").GetString(), region.GetProperty("meters").GetInt32(),
            region.GetProperty("compliant_meters").GetInt32(), region.GetProperty("compliant").GetBoolean()));
        Assert.Equal([Disturbed, Steady], region.GetProperty("worst_meters").EnumerateArray().Select(m => m.GetProperty("meter_id").GetString()).ToList());
        Assert.Equal(1, region.GetProperty("event_counts").GetProperty("interruption").GetInt32());

        // A transformer and a feeder: each meter counts under a node only while it was placed there (the steady one moved at +10 min).
        var topology = node.App.Services.GetRequiredService<TopologyStore>();
        await topology.ImportAsync([new(2, Disturbed, "TR-PQ1", "FD-PQ", "Nashik", 100, 1_000), new(3, Steady, "TR-PQ2", "FD-PQ", "Nashik", 100)], start.AddHours(-1));
        await topology.ImportAsync([new(2, Steady, "TR-PQ1", "FD-PQ", "Nashik")], start.AddMinutes(10));
        var span = $"from={Q(start)}&to={Q(start.AddHours(1))}";
        var first = await http.GetFromJsonAsync<JsonElement>($"/api/v1/power-quality/nodes/tr-pq1?{span}");
        var second = await http.GetFromJsonAsync<JsonElement>($"/api/v1/power-quality/nodes/TR-PQ2?{span}");
        var feeder = await http.GetFromJsonAsync<JsonElement>($"/api/v1/power-quality/nodes/FD-PQ?{span}");
        Assert.Equal(("TR-PQ1", "transformer", 2, 3), (first.GetProperty("node_id").GetString(), first.GetProperty("level").GetString(),
            first.GetProperty("meters").GetInt32(), first.GetProperty("windows").GetInt32()));
        Assert.Equal((1, 1, 1), (second.GetProperty("meters").GetInt32(), second.GetProperty("windows").GetInt32(), second.GetProperty("compliant_meters").GetInt32()));
        Assert.Equal(("feeder", 2, 4, 1), (feeder.GetProperty("level").GetString(), feeder.GetProperty("meters").GetInt32(),
            feeder.GetProperty("windows").GetInt32(), feeder.GetProperty("event_counts").GetProperty("sag").GetInt32()));

        // Input is validated, naming the field.
        var bad = await http.GetAsync($"/api/v1/power-quality/meters/{Disturbed}?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("from", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/v1/power-quality/nodes/Atlantis")).StatusCode);

        // A USER reads their own meter only (another's answers as if it did not exist), and no node.
        using var user = await LoginAsync(node, DemoAccountSeeder.UserEmail);
        var own = node.App.Services.GetRequiredService<SmartGrid.Gateway.GatewayOptions>().DemoMeterId;
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync($"/api/v1/power-quality/meters/{own}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync($"/api/v1/power-quality/meters/{Disturbed}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/power-quality/nodes/Nashik")).StatusCode);
        output.WriteLine(meter.ToString());
    }

    private static Task<HttpClient> LoginAsync(PipelineNode node, string email) => NodeHttp.LoginAsync(node, email, Password);
}
