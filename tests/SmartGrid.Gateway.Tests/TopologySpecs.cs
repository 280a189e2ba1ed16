using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

/// <summary>
/// The topology routes: an ADMIN imports and edits the tree, an OPERATOR reads their regions' part
/// of it, and a hostile file or request is refused naming what is wrong. Node ids carry a random
/// suffix so the shared gateway's other specs never meet them.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class TopologySpecs(GatewayFixture gateway)
{
    private readonly string _tag = Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task Should_import_a_tree_once_and_show_it_to_an_operator_of_its_region_only()
    {
        using var admin = await gateway.AdminAsync();
        var (nashik, pune, other) = (Scenario.NewMeterId(), Scenario.NewMeterId(), Scenario.NewMeterId());
        var csv = $"""
            meter_id,transformer_id,feeder_id,region,transformer_rated_kw,feeder_rated_kw
            {nashik},TR-{_tag}-1,FD-{_tag}-N,Nashik,100,2000
            {other},TR-{_tag}-1,FD-{_tag}-N,nashik,,
            {pune},TR-{_tag}-2,FD-{_tag}-P,Pune-West,150,1500
            """;

        var first = await (await ImportAsync(admin, csv)).JsonAsync();
        var again = await (await ImportAsync(admin, csv)).JsonAsync();

        Assert.Equal((3, 3, 0), (first.GetProperty("lines").GetInt32(), first.GetProperty("placed").GetInt32(), first.GetProperty("refused").GetInt32()));
        Assert.Equal((3, 0), (again.GetProperty("unchanged").GetInt32(), again.GetProperty("placed").GetInt32()));
        var (op, _, _) = await gateway.OperatorOfAsync("Nashik");
        var tree = await (await op.GetAsync("/api/v1/grid/topology")).JsonAsync();
        var region = Assert.Single(tree.GetProperty("regions").EnumerateArray());
        Assert.Equal("Nashik", region.GetProperty("region").GetString());
        var feeder = region.GetProperty("feeders").EnumerateArray().Single(f => f.GetProperty("id").GetString() == $"FD-{_tag}-N");
        var transformer = Assert.Single(feeder.GetProperty("transformers").EnumerateArray());
        Assert.Equal(($"TR-{_tag}-1", 100.0, 2), (transformer.GetProperty("id").GetString(), transformer.GetProperty("rated_kw").GetDouble(),
            transformer.GetProperty("meter_count").GetInt32()));
        Assert.Equal(new[] { nashik, other }.Order(), transformer.GetProperty("meters").EnumerateArray().Select(m => m.GetString()!).Order());
        Assert.DoesNotContain(pune, tree.ToString());
        // The operator's own request for another region's tree, and for the admin routes.
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync("/api/v1/grid/topology?region=Pune-West")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ImportAsync(op, csv)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.DeleteAsync($"/api/v1/admin/topology/nodes/TR-{_tag}-1")).StatusCode);
        await (await op.GetAsync("/api/v1/grid/topology?region=Atlantis")).FieldErrorAsync("region");
    }

    [Fact]
    public async Task Should_refuse_each_hostile_line_alone_naming_its_column()
    {
        using var admin = await gateway.AdminAsync();
        var (good, elsewhere, dup) = (Scenario.NewMeterId(), Scenario.NewMeterId(), Scenario.NewMeterId());
        await (await ImportAsync(admin, $"meter_id,transformer_id,feeder_id,region,transformer_rated_kw,feeder_rated_kw\n{elsewhere},TR-{_tag}-E,FD-{_tag}-E,Mumbai-North,50,500")).JsonAsync();
        var csv = $"""
            meter_id,transformer_id,feeder_id,region,transformer_rated_kw,feeder_rated_kw
            {good},TR-{_tag}-H,FD-{_tag}-H,Nashik,100,1000
            MTR-1'; DROP TABLE meters;--,TR-{_tag}-H,FD-{_tag}-H,Nashik,,
            {elsewhere},TR-{_tag}-H,FD-{_tag}-H,Nashik,,
            {dup},"TR-{_tag}-H",FD-{_tag}-H,Nashik,,
            {dup},TR-{_tag}-H,FD-{_tag}-H,Nashik,,,,
            {dup},TR-{_tag}-X,FD-{_tag}-H,Nashik,NaN,
            {Scenario.NewMeterId()},TR-{_tag}-E,FD-{_tag}-H,Nashik,,
            """;

        var answer = await (await ImportAsync(admin, csv)).JsonAsync();

        Assert.Equal((7, 1, 6), (answer.GetProperty("lines").GetInt32(), answer.GetProperty("placed").GetInt32(), answer.GetProperty("refused").GetInt32()));
        var errors = answer.GetProperty("errors").EnumerateArray().ToDictionary(e => e.GetProperty("line").GetInt32(),
            e => string.Join(",", e.GetProperty("errors").EnumerateObject().Select(p => p.Name)));
        Assert.Equal(new Dictionary<int, string>
        {
            [3] = "meter_id", [4] = "region", [5] = "transformer_id", [6] = "line", [7] = "transformer_rated_kw", [8] = "transformer_id",
        }, errors);
        Assert.Single(await gateway.Storage.Topology.PlacementsOfAsync(elsewhere));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM meters WHERE meter_id = $1", good));
    }

    [Fact]
    public async Task Should_refuse_a_hostile_file_as_a_whole_with_a_problem()
    {
        using var admin = await gateway.AdminAsync();

        var huge = await ImportAsync(admin, "meter_id,transformer_id,feeder_id,region\n" + new string('x', 17 * 1024 * 1024));
        var header = await ImportAsync(admin, "meter;transformer;feeder;region\nMTR-1;T;F;Nashik");
        var binary = await admin.PostAsync("/api/v1/admin/topology/import", new ByteArrayContent([0xff, 0xfe, 0x00, 0xc3, 0x28]) { Headers = { { "Content-Type", "text/csv" } } });
        var json = await admin.PostAsJsonAsync("/api/v1/admin/topology/import", new { meter_id = "MTR-1" });
        var when = await admin.PostAsync("/api/v1/admin/topology/import?valid_from=yesterday", new StringContent("meter_id,transformer_id,feeder_id,region\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Contains("meter_id", await header.FieldErrorAsync("header"));
        await binary.FieldErrorAsync("body");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        await when.FieldErrorAsync("valid_from");
    }

    [Fact]
    public async Task Should_create_change_place_under_and_delete_nodes_level_by_level()
    {
        using var admin = await gateway.AdminAsync();
        var (feeder, transformer, meter) = ($"FD-{_tag}-C", $"TR-{_tag}-C", Scenario.NewMeterId());

        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/topology/feeders", new { id = feeder, region = "pune-west", rated_kw = 1800 })).JsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync("/api/v1/admin/topology/transformers", new { id = transformer, feeder_id = feeder, rated_kw = 200 })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(("feeder", "Pune-West"), (created.GetProperty("kind").GetString(), created.GetProperty("region").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/api/v1/admin/topology/feeders", new { id = feeder.ToLowerInvariant(), region = "Nashik", rated_kw = 1 })).StatusCode);
        var bad = await admin.PostAsJsonAsync("/api/v1/admin/topology/transformers", new { id = "TR X'--", feeder_id = feeder, rated_kw = -1 });
        await bad.FieldErrorAsync("rated_kw");
        await (await admin.PostAsJsonAsync("/api/v1/admin/topology/transformers", new { id = "TR X'--", feeder_id = feeder, rated_kw = 5 })).FieldErrorAsync("id");
        await (await admin.PostAsJsonAsync("/api/v1/admin/topology/transformers", new { id = $"TR-{_tag}-Z", feeder_id = "FD-NOPE", rated_kw = 5 })).FieldErrorAsync("feeder_id");

        var changed = await (await admin.PutAsJsonAsync($"/api/v1/admin/topology/nodes/{transformer.ToLowerInvariant()}", new { rated_kw = 250 })).JsonAsync();
        Assert.Equal(250, changed.GetProperty("rated_kw").GetDouble());
        await (await admin.PutAsJsonAsync($"/api/v1/admin/topology/nodes/{transformer}", new { region = "Nashik" })).FieldErrorAsync("region");

        var placed = await (await admin.PutAsJsonAsync($"/api/v1/admin/topology/meters/{meter}", new { transformer_id = transformer, valid_from = "2026-11-01T00:00:00Z" })).JsonAsync();
        Assert.Equal(transformer, Assert.Single(placed.GetProperty("placements").EnumerateArray()).GetProperty("transformer_id").GetString());
        await (await admin.PutAsJsonAsync($"/api/v1/admin/topology/meters/{meter}", new { transformer_id = feeder })).FieldErrorAsync("transformer_id");

        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/v1/admin/topology/nodes/{feeder}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/v1/admin/topology/nodes/{transformer}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/admin/topology/nodes/TR-NOPE")).StatusCode);
        Assert.Equal("transformer", (await (await admin.GetAsync($"/api/v1/admin/topology/nodes/{transformer}")).JsonAsync()).GetProperty("kind").GetString());
    }

    private static Task<HttpResponseMessage> ImportAsync(HttpClient client, string csv) =>
        client.PostAsync("/api/v1/admin/topology/import", new StringContent(csv, Encoding.UTF8, "text/csv"));

    private async Task<long> CountAsync(string sql, string value)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = value });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
