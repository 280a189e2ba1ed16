using System.Net;
using System.Net.Http.Json;

namespace SmartGrid.Gateway.Tests;

/// <summary>One meter-id rule with ingestion; every Location answers (issue 12, finding 9).</summary>
[Collection(GatewayCollection.Name)]
public sealed class LocationSpecs(GatewayFixture gateway)
{
    [Theory]
    [InlineData("ABC:1.2_x")]
    [InlineData("MTR-1234567")]
    [InlineData("mtr-00000001")]
    public async Task Should_refuse_a_meter_id_that_ingestion_would_refuse(string meterId)
    {
        using var admin = await gateway.AdminAsync();
        var created = await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meterId, region = "Nashik" });
        Assert.Contains("MTR-[0-9]{8}", await created.FieldErrorAsync("meter_id"));
    }

    [Fact]
    public async Task Should_answer_200_at_the_location_of_a_created_meter_and_override()
    {
        using var admin = await gateway.AdminAsync();
        var meterId = Scenario.NewMeterId();
        var meter = await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meterId, region = "Nashik" });
        Assert.Equal(HttpStatusCode.Created, meter.StatusCode);
        var found = await (await admin.GetAsync(meter.Headers.Location)).JsonAsync();
        Assert.Equal((meterId, "Nashik"), (found.GetProperty("meter_id").GetString(), found.GetProperty("region").GetString()));

        var created = await admin.PostAsJsonAsync("/api/v1/tariff/admin/override",
            new { region = "Mumbai-Central", percentage = 5, valid_to = DateTimeOffset.UtcNow.AddMinutes(30), reason = "location spec" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.JsonAsync(HttpStatusCode.Created)).GetProperty("override_id").GetGuid();
        var fetched = await (await admin.GetAsync(created.Headers.Location)).JsonAsync();
        Assert.Equal(id, fetched.GetProperty("override_id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync(created.Headers.Location)).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/admin/meters/{Scenario.NewMeterId()}")).StatusCode);
    }

    [Fact]
    public async Task Should_answer_200_at_the_location_of_a_created_region_and_ingestion_key()
    {
        using var admin = await gateway.AdminAsync();
        var name = $"Loc-{Guid.NewGuid():N}"[..16];
        var region = await admin.PostAsJsonAsync("/api/v1/admin/regions", new { name, capacity_kw = 1000 });
        Assert.Equal(HttpStatusCode.Created, region.StatusCode);
        var found = await (await admin.GetAsync(region.Headers.Location)).JsonAsync();
        Assert.Equal((name, 1000.0), (found.GetProperty("name").GetString(), found.GetProperty("capacity_kw").GetDouble()));

        var key = await admin.PostAsJsonAsync("/api/v1/admin/ingestion-keys", new { name = "location spec", regions = new[] { name } });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        var id = (await key.JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var fetched = await (await admin.GetAsync(key.Headers.Location)).JsonAsync();
        Assert.Equal(id, fetched.GetProperty("id").GetGuid());
        Assert.False(fetched.TryGetProperty("secret", out _));

        // Other specs of this collection list every active region: leave none of ours behind.
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync(key.Headers.Location)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync(region.Headers.Location)).StatusCode);
    }
}
