using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;
using SmartGrid.Integration.Tests.Pipeline;
using SmartGrid.Storage;
using Xunit.Abstractions;
using static SmartGrid.Integration.Tests.Pipeline.NodeHttp;

namespace SmartGrid.Integration.Tests.Reliability;

/// <summary>
/// Readings with known outages (a last gasp, silences, a supply that comes back low, a meter still silent), sent twice
/// over through Kafka to a real node: customer_interruptions and the IEEE 1366 routes must answer what the readings say,
/// exactly once, and only to the operators of the region.
/// </summary>
public sealed class ReliabilityRouteSpecs(ITestOutputHelper output)
{
    private const string Password = "Reliability-Specs-2026";
    private const string LastGasp = "MTR-78000001";
    private const string Flicker = "MTR-78000002";
    private const string Silent = "MTR-78000003";
    private const string Elsewhere = "MTR-78000004";

    /// <summary>Reading i of a meter is at start + 10 i s, 360 of them (one hour); a null voltage leaves reading i out.</summary>
    private static List<TelemetryReading> Readings(string meter, DateTimeOffset start, Func<int, double?> voltage) =>
        Enumerable.Range(0, 360).Where(i => voltage(i) is not null)
            .Select(i => PipelineNode.Reading(meter, start.AddSeconds(10 * i)) with
            {
                Voltage = voltage(i)!.Value, Region = meter == Elsewhere ? "Pune-West" : "Nashik",
            }).ToList();

    [Fact]
    public async Task Should_answer_the_indices_and_interruptions_the_readings_hold_exactly_once_to_the_regions_operators_only()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(3), WindowSize.FifteenMinutes);
        start = start.AddMinutes(-start.Minute);
        var streams = new[]
        {
            // Last gasp at 10:00, silent, back low (150 V) at 20:00, restored at 20:10: 10 min 10 s, sustained.
            Readings(LastGasp, start, i => i switch { 60 => 0, > 60 and < 120 => null, 120 => 150, _ => 231 }),
            // Four readings lost from 33:20 (out from 33:20, back at 34:00: 40 s), then a 2 V gasp at 50:00 and back at 50:20: both momentary.
            Readings(Flicker, start, i => i switch { >= 200 and < 204 => null, 300 => 2, 301 => null, _ => 229 }),
            // Silent after 49:50 and never heard again: out from 50:00, 10 minutes by the period's end.
            Readings(Silent, start, i => i < 300 ? 230 : null),
            Readings(Elsewhere, start, i => i == 100 ? 0 : 230),
        };
        await using var node = await PipelineNode.StartAsync("processor,gateway",
            "--environment=Development", $"--{DemoAccountSeeder.PasswordSetting}={Password}");
        await node.App.Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(
            [(LastGasp, "Nashik"), (Flicker, "Nashik"), (Silent, "Nashik"), (Elsewhere, "Pune-West")]);
        // The flickering meter hangs under a transformer of its own on a feeder, the other two under another on the same feeder.
        var imported = await node.App.Services.GetRequiredService<TopologyStore>().ImportAsync(
        [
            new TopologyImportRow(1, Flicker, "TR-REL-1", "FD-REL", "Nashik", 100, 2000),
            new TopologyImportRow(2, LastGasp, "TR-REL-2", "FD-REL", "Nashik", 100, 2000),
            new TopologyImportRow(3, Silent, "TR-REL-2", "FD-REL", "Nashik", 100, 2000),
        ], start.AddDays(-1));
        Assert.All(imported, r => Assert.Empty(r.Errors));
        var stream = streams.SelectMany(s => s).OrderBy(r => r.Timestamp).ToList();
        // The whole stream twice: duplicates the meters must drop.
        await PipelineNode.ProduceAsync(node.KafkaBootstrap, stream.Concat(stream).ToList());

        using var admin = await LoginAsync(node, DemoAccountSeeder.AdminEmail);
        var period = $"from={Q(start)}&to={Q(start.AddHours(1))}";
        var answer = await WaitForAsync(admin, $"/api/v1/reliability/regions/Nashik?{period}",
            a => a.GetProperty("interruptions").EnumerateArray().Count(i => i.GetProperty("end").ValueKind != JsonValueKind.Null) == 3
                 && a.GetProperty("interruptions").GetArrayLength() == 4 && a.GetProperty("customers_served").GetInt32() == 3);
        output.WriteLine(answer.ToString());

        // The truth, by hand.
        var expected = new List<(string?, DateTimeOffset, DateTimeOffset?, string?, bool?)>
        {
            (LastGasp, start.AddSeconds(600), start.AddSeconds(1210), "last-gasp", true),
            (Flicker, start.AddSeconds(2000), start.AddSeconds(2040), "silence", false),
            (Flicker, start.AddSeconds(3000), start.AddSeconds(3020), "last-gasp", false),
            (Silent, start.AddSeconds(3000), null, "silence", true),
        };
        Assert.Equal(expected, answer.GetProperty("interruptions").EnumerateArray().Select(i => (i.GetProperty("meter_id").GetString(), i.GetProperty("start").GetDateTimeOffset(),
                i.GetProperty("end").ValueKind == JsonValueKind.Null ? null : (DateTimeOffset?)i.GetProperty("end").GetDateTimeOffset(),
                i.GetProperty("started_by").GetString(), i.GetProperty("sustained").ValueKind == JsonValueKind.Null ? null : (bool?)i.GetProperty("sustained").GetBoolean()))
                .OrderBy(i => i.Item2).ThenBy(i => i.Item1).ToList());
        // 3 customers; sustained 10 1/6 + 10 minutes, 2 momentary: SAIFI 2/3, SAIDI 20 1/6 / 3, CAIDI 10 1/12, MAIFI 2/3.
        Assert.Equal((3, 2, 2), (answer.GetProperty("customers_served").GetInt32(), answer.GetProperty("sustained_interruptions").GetInt32(),
            answer.GetProperty("momentary_interruptions").GetInt32()));
        Assert.Equal(2.0 / 3, answer.GetProperty("saifi").GetDouble(), 9);
        Assert.Equal(121.0 / 6 / 3, answer.GetProperty("saidi_minutes").GetDouble(), 9);
        Assert.Equal(121.0 / 12, answer.GetProperty("caidi_minutes").GetDouble(), 9);
        Assert.Equal(2.0 / 3, answer.GetProperty("maifi").GetDouble(), 9);
        // Stored exactly once, whatever the duplicates: the three ended ones (the silent meter's is no reading's yet).
        var rows = await node.App.Services.GetRequiredService<AggregateQueries>().GetCustomerInterruptionsAsync("Nashik", start, start.AddHours(1));
        Assert.Equal(3, rows.Count);

        // A node is its region for now, asked in any case.
        var asNode = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/nodes/nashik?{period}");
        Assert.Equal(("Nashik", answer.GetProperty("saidi_minutes").GetDouble()), (asNode.GetProperty("node_id").GetString(), asNode.GetProperty("saidi_minutes").GetDouble()));

        // A transformer: its one customer's two momentary interruptions; the feeder: all three customers, as the region.
        var transformer = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/nodes/tr-rel-1?{period}");
        Assert.Equal(("TR-REL-1", "transformer", 1, 0, 2, 2.0), (transformer.GetProperty("node_id").GetString(), transformer.GetProperty("level").GetString(),
            transformer.GetProperty("customers_served").GetInt32(), transformer.GetProperty("sustained_interruptions").GetInt32(),
            transformer.GetProperty("momentary_interruptions").GetInt32(), transformer.GetProperty("maifi").GetDouble()));
        var feeder = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/nodes/FD-REL?{period}");
        Assert.Equal((3, answer.GetProperty("saidi_minutes").GetDouble(), 4), (feeder.GetProperty("customers_served").GetInt32(),
            feeder.GetProperty("saidi_minutes").GetDouble(), feeder.GetProperty("interruptions").GetArrayLength()));

        // Input is validated, naming the field.
        await AssertBadRequestAsync(admin, "/api/v1/reliability/regions/Nashik?from=yesterday", "from");
        await AssertBadRequestAsync(admin, $"/api/v1/reliability/regions/Nashik?from={Q(start.AddHours(1))}&to={Q(start)}", "from");
        await AssertBadRequestAsync(admin, "/api/v1/reliability/regions/%24%7Bjndi%7D", "region");
        await AssertBadRequestAsync(admin, "/api/v1/reliability/nodes/..%2F..%2Fetc", "nodeId");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/reliability/regions/Atlantis")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/reliability/nodes/TR-NOWHERE")).StatusCode);

        // The attacker: an operator of Pune-West only asks for Nashik, by either route and in another case.
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/users?limit=100");
        var operatorId = users.GetProperty("items").EnumerateArray().Single(u => u.GetProperty("email").GetString() == DemoAccountSeeder.OperatorEmail).GetProperty("id").GetString();
        using (var demote = await admin.PutAsJsonAsync($"/api/v1/admin/users/{operatorId}/role", new { role = "OPERATOR", operator_regions = new[] { "Pune-West" } }))
            Assert.True(demote.IsSuccessStatusCode, await demote.Content.ReadAsStringAsync());
        using var punePeople = await LoginAsync(node, DemoAccountSeeder.OperatorEmail);
        Assert.Equal(HttpStatusCode.Forbidden, (await punePeople.GetAsync($"/api/v1/reliability/regions/Nashik?{period}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await punePeople.GetAsync($"/api/v1/reliability/nodes/NASHIK?{period}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await punePeople.GetAsync($"/api/v1/reliability/nodes/TR-REL-2?{period}")).StatusCode);
        var pune = await punePeople.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/regions/Pune-West?{period}");
        Assert.DoesNotContain(pune.GetProperty("interruptions").EnumerateArray(), i => i.GetProperty("meter_id").GetString() != Elsewhere);
        using var user = await LoginAsync(node, DemoAccountSeeder.UserEmail);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync($"/api/v1/reliability/regions/Nashik?{period}")).StatusCode);
    }

    [Fact]
    public async Task Should_not_count_a_platform_stop_as_interruptions_while_a_transformers_silent_outage_counts()
    {
        var start = Window.Floor(DateTimeOffset.UtcNow - TimeSpan.FromHours(4), WindowSize.FifteenMinutes);
        start = start.AddMinutes(-start.Minute);
        var meters = Enumerable.Range(1, 6).Select(n => $"MTR-7810000{n}").ToArray();
        // One hour every 10 s. The platform hears nobody from 20:00 to 35:00 (the node stopped); meters 1 and 2, on their own
        // transformer, lose supply from 45:00 to 52:00 without a gasp while the rest report; after 59:50 nobody is heard again.
        var stream = meters.SelectMany((meter, m) => Enumerable.Range(0, 360)
                .Where(i => i is < 120 or >= 210 && (m >= 2 || i is < 270 or >= 312))
                .Select(i => PipelineNode.Reading(meter, start.AddSeconds(10 * i)) with { Voltage = 231, Region = "Nashik" }))
            .OrderBy(r => r.Timestamp).ToList();
        await using var node = await PipelineNode.StartAsync("processor,gateway",
            "--environment=Development", $"--{DemoAccountSeeder.PasswordSetting}={Password}");
        await node.App.Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(meters.Select(m => (m, "Nashik")).ToArray());
        var imported = await node.App.Services.GetRequiredService<TopologyStore>().ImportAsync(
            meters.Select((m, i) => new TopologyImportRow(i + 1, m, i < 2 ? "TR-OUT" : "TR-ON", "FD-PLAT", "Nashik", 100, 2000)).ToList(),
            start.AddDays(-1));
        Assert.All(imported, r => Assert.Empty(r.Errors));
        await PipelineNode.ProduceAsync(node.KafkaBootstrap, stream);

        // Settled when every meter has decided its interruptions (the platform's six and the transformer's two, all ended) and the
        // region's last minute is stored: what the routes judge by is then all there.
        var queries = node.App.Services.GetRequiredService<AggregateQueries>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while ((await queries.GetCustomerInterruptionsAsync("Nashik", start, start.AddHours(1))).Count(i => i.End is not null) < 8
               || (await queries.GetRegionalLoadAsync("Nashik", WindowSize.OneMinute, start.AddMinutes(59), start.AddHours(1))).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the interruptions and the region's windows were never stored");
            await Task.Delay(250);
        }
        var stored = await queries.GetCustomerInterruptionsAsync("Nashik", start, start.AddHours(1));
        Assert.Equal(6, stored.Count(i => i.StartedBy == InterruptionStart.Silence && i.Start == start.AddMinutes(20)));

        using var admin = await LoginAsync(node, DemoAccountSeeder.AdminEmail);
        // Two hours: the period also holds the fleet's silence since 59:50, the platform's too (no reading from anyone since).
        var period = $"from={Q(start)}&to={Q(start.AddHours(2))}";
        var answer = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/regions/Nashik?{period}");
        output.WriteLine(answer.ToString());

        Assert.Equal([(meters[0], start.AddMinutes(45), start.AddMinutes(52)), (meters[1], start.AddMinutes(45), start.AddMinutes(52))],
            answer.GetProperty("interruptions").EnumerateArray().Select(i => (i.GetProperty("meter_id").GetString(), i.GetProperty("start").GetDateTimeOffset(),
                i.GetProperty("end").GetDateTimeOffset())).ToList());
        // The stop's six and the six silent since the stream ended are the platform's.
        Assert.Equal(12, answer.GetProperty("platform_silences_excluded").GetInt32());
        // 6 customers, 2 sustained interruptions of 7 minutes: SAIFI 1/3, SAIDI 14/6 minutes, CAIDI 7.
        Assert.Equal((6, 2, 0), (answer.GetProperty("customers_served").GetInt32(), answer.GetProperty("sustained_interruptions").GetInt32(),
            answer.GetProperty("momentary_interruptions").GetInt32()));
        Assert.Equal(1.0 / 3, answer.GetProperty("saifi").GetDouble(), 9);
        Assert.Equal(14.0 / 6, answer.GetProperty("saidi_minutes").GetDouble(), 9);
        // The transformer that was out: both its customers, once each; the one that stayed on: none.
        var outage = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/nodes/TR-OUT?{period}");
        Assert.Equal((2, 1.0, 7.0), (outage.GetProperty("customers_served").GetInt32(), outage.GetProperty("saifi").GetDouble(),
            outage.GetProperty("saidi_minutes").GetDouble()));
        var stayedOn = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reliability/nodes/TR-ON?{period}");
        Assert.Equal((4, 0.0, 0), (stayedOn.GetProperty("customers_served").GetInt32(), stayedOn.GetProperty("saifi").GetDouble(),
            stayedOn.GetProperty("interruptions").GetArrayLength()));
    }

    private static async Task AssertBadRequestAsync(HttpClient http, string route, string field)
    {
        using var response = await http.GetAsync(route);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _), route);
    }

    private static Task<HttpClient> LoginAsync(PipelineNode node, string email) => NodeHttp.LoginAsync(node, email, Password);
}
