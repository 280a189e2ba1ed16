using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;
using SmartGrid.Integration.Tests.Pipeline;
using SmartGrid.Storage;
using static SmartGrid.Integration.Tests.Pipeline.NodeHttp;
using static SmartGrid.Integration.Tests.PowerQuality.PowerQualityRouteSpecs;

namespace SmartGrid.Integration.Tests.Topology;

/// <summary>
/// A tree imported over HTTP, readings sent twice through Kafka to a real node, one meter moving
/// between transformers mid-way: each node's load windows must equal the sums the readings give,
/// meter by meter, counted once and only while each meter was placed under the node.
/// </summary>
public sealed class NodeLoadRouteSpecs
{
    private static readonly string[] Meters = ["MTR-78000001", "MTR-78000002", "MTR-78000003"];

    /// <summary>Meter m's power in minute k: distinct per meter and minute, so a wrong sum cannot match by chance.</summary>
    private static double Power(int m, int minute, int i) => 1 + m * 2 + minute * 0.5 + (i % 2 == 0 ? 0.1 : -0.1);

    [Fact]
    public async Task Should_answer_each_nodes_load_windows_as_the_readings_and_placements_give_them_exactly_once()
    {
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        start = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
        var moved = start.AddMinutes(2);
        var readings = Enumerable.Range(0, 4).SelectMany(minute => Enumerable.Range(0, 6).SelectMany(i => Meters.Select((meter, m) =>
            PipelineNode.Reading(meter, start.AddMinutes(minute).AddSeconds(10 * i)) with { PowerKw = Power(m, minute, i), EnergyKwh = Power(m, minute, i) / 360 })))
            .ToList();
        await using var node = await PipelineNode.StartAsync("processor,gateway", "--environment=Development", $"--{DemoAccountSeeder.PasswordSetting}={Password}");
        using var admin = await LoginAsync(node, DemoAccountSeeder.AdminEmail, Password);
        var csv = $"meter_id,transformer_id,feeder_id,region,transformer_rated_kw,feeder_rated_kw\n{Meters[0]},TR-L1,FD-L,Nashik,10,40\n{Meters[1]},TR-L1,FD-L,Nashik,,\n{Meters[2]},TR-L2,FD-L,Nashik,20,";
        var imported = await (await admin.PostAsync($"/api/v1/admin/topology/import?valid_from={Q(start.AddHours(-1))}", new StringContent(csv, Encoding.UTF8, "text/csv")))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, imported.GetProperty("placed").GetInt32());
        var move = await admin.PutAsJsonAsync($"/api/v1/admin/topology/meters/{Meters[1]}", new { transformer_id = "TR-L2", valid_from = moved });
        Assert.True(move.IsSuccessStatusCode, await move.Content.ReadAsStringAsync());

        await PipelineNode.ProduceAsync(node.KafkaBootstrap, readings.Concat(readings).ToList());

        var span = $"from={Q(start)}&to={Q(start.AddMinutes(4))}&resolution=1m";
        var feeder = await WaitForAsync(admin, $"/api/v1/grid/nodes/FD-L/load?{span}",
            f => f.GetProperty("items").GetArrayLength() == 4 && f.GetProperty("items").EnumerateArray().All(w => w.GetProperty("meter_count").GetInt32() == 3));
        // The truth: per minute, the average power of each meter placed under the node at the minute's start.
        double Truth(int minute, params int[] meters) => meters.Sum(m => readings.Where(r => r.MeterId == Meters[m] && r.Timestamp >= start.AddMinutes(minute)
            && r.Timestamp < start.AddMinutes(minute + 1)).Average(r => r.PowerKw));
        int[] Under(string transformer, int minute) => transformer == "TR-L1" ? (minute < 2 ? [0, 1] : [0]) : (minute < 2 ? [2] : [1, 2]);

        Assert.Equal(Enumerable.Range(0, 4).Select(k => (start.AddMinutes(k), Math.Round(Truth(k, 0, 1, 2), 9), 3, 3)),
            Items(feeder).Select(w => (w.Start, Math.Round(w.Kw, 9), w.Count, w.Expected)));
        Assert.Equal(Enumerable.Range(0, 4).Select(k => Math.Round(Truth(k, 0, 1, 2) / 40 * 100, 9)), Items(feeder).Select(w => Math.Round(w.Percent, 9)));
        foreach (var (transformer, rating) in new[] { ("TR-L1", 10.0), ("TR-L2", 20.0) })
        {
            var answer = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/grid/nodes/{transformer.ToLowerInvariant()}/load?{span}");
            Assert.Equal(Enumerable.Range(0, 4).Select(k => (start.AddMinutes(k), Math.Round(Truth(k, Under(transformer, k)), 9), Under(transformer, k).Length,
                    Under(transformer, k).Length, Math.Round(Truth(k, Under(transformer, k)) / rating * 100, 9))),
                Items(answer).Select(w => (w.Start, Math.Round(w.Kw, 9), w.Count, w.Expected, Math.Round(w.Percent, 9))));
        }
        // Exactly once: the stored per-meter rows behind the sums were written once despite the duplicate stream.
        Assert.Equal(12, (await node.App.Services.GetRequiredService<AggregateQueries>().GetAllMeterAggregatesAsync(WindowSize.OneMinute, start, start.AddMinutes(4)))
            .Count(w => Meters.Contains(w.MeterId)));

        var (op, bad) = (await LoginAsync(node, DemoAccountSeeder.UserEmail, Password), await admin.GetAsync($"/api/v1/grid/nodes/FD-L/load?resolution=5m"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("resolution", out _));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await op.GetAsync($"/api/v1/grid/nodes/FD-L/load?{span}")).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/grid/nodes/TR-NOPE/load")).StatusCode);
    }

    private static IEnumerable<(DateTimeOffset Start, double Kw, int Count, int Expected, double Percent)> Items(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(w => (w.GetProperty("window_start").GetDateTimeOffset(), w.GetProperty("total_power_kw").GetDouble(),
            w.GetProperty("meter_count").GetInt32(), w.GetProperty("expected_meters").GetInt32(), w.GetProperty("load_percent").GetDouble()));
}
