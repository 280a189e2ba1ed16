using System.Net;
using System.Net.Http.Json;

namespace SmartGrid.Gateway.Tests;

/// <summary>
/// The operator's data ingestion trusts, managed over the ADMIN routes: regions (create, update,
/// retire, each audited) and ingestion API keys (secret shown once, listed without it, revoked).
/// Every region a spec creates is retired before it ends, so the other specs see the four defaults.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RegistrySpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_create_update_and_retire_a_region_with_an_audit_row_for_each_change()
    {
        using var admin = await gateway.AdminAsync();
        var adminId = await ScalarAsync("SELECT id::text FROM users WHERE email = $1", SmartGrid.Gateway.Seeding.DemoAccountSeeder.AdminEmail);
        var name = "Nagpur-" + Guid.NewGuid().ToString("N")[..6];

        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/regions", new { name, capacity_kw = 2800 })).JsonAsync(HttpStatusCode.Created);
        Assert.Equal((name, 2800.0, 230.0, "Asia/Kolkata", "active"), (created.GetProperty("name").GetString(), created.GetProperty("capacity_kw").GetDouble(),
            created.GetProperty("nominal_voltage").GetDouble(), created.GetProperty("time_zone").GetString(), created.GetProperty("status").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/api/v1/admin/regions", new { name = name.ToUpperInvariant(), capacity_kw = 1 })).StatusCode);
        // Addressed in any case; the stored spelling stays.
        var updated = await (await admin.PutAsJsonAsync($"/api/v1/admin/regions/{name.ToLowerInvariant()}", new { capacity_kw = 3100.5 })).JsonAsync();
        Assert.Equal((name, 3100.5), (updated.GetProperty("name").GetString(), updated.GetProperty("capacity_kw").GetDouble()));
        Assert.Equal(3100.5, (await gateway.Storage.Regions.RefreshAsync()).Find(name)!.Spec.CapacityKw);
        var retired = await (await admin.DeleteAsync($"/api/v1/admin/regions/{name}")).JsonAsync();
        Assert.Equal("retired", retired.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/api/v1/admin/regions/{name}", new { capacity_kw = 1 })).StatusCode);

        var audit = (await (await admin.GetAsync($"/api/v1/admin/regions/{name}/audit")).JsonAsync()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["created", "updated", "retired"], audit.Select(a => a.GetProperty("action").GetString()));
        Assert.All(audit, a => Assert.Equal($"user:{adminId}", a.GetProperty("actor").GetString()));
        Assert.Equal(2800, audit[1].GetProperty("old").GetProperty("capacity_kw").GetDouble());
        Assert.Equal(3100.5, audit[1].GetProperty("new").GetProperty("capacity_kw").GetDouble());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, audit[0].GetProperty("old").ValueKind);
        var listed = (await (await admin.GetAsync("/api/v1/admin/regions")).JsonAsync()).GetProperty("items").EnumerateArray()
            .Single(r => r.GetProperty("name").GetString() == name);
        Assert.Equal("retired", listed.GetProperty("status").GetString());
        Assert.DoesNotContain(name, (await (await admin.GetAsync("/api/v1/grid/regions")).JsonAsync()).ToString());
    }

    [Fact]
    public async Task Should_answer_400_naming_each_bad_field_of_a_region()
    {
        using var admin = await gateway.AdminAsync();

        var forged = await admin.PostAsJsonAsync("/api/v1/admin/regions", new { name = "Nashik'; DROP TABLE meters;--", capacity_kw = 100 });
        var values = await admin.PostAsJsonAsync("/api/v1/admin/regions", new { name = "Valid-Name", capacity_kw = -5, nominal_voltage = 0, time_zone = "Mars/Olympus" });
        var rename = await admin.PutAsJsonAsync("/api/v1/admin/regions/Nashik", new { name = "Evil" });

        Assert.Contains("letters", await forged.FieldErrorAsync("name"));
        await values.FieldErrorAsync("capacity_kw");
        await values.FieldErrorAsync("nominal_voltage");
        await values.FieldErrorAsync("time_zone");
        await rename.FieldErrorAsync("name");
        Assert.Equal(4, (await gateway.Storage.Regions.RefreshAsync()).Active.Count);
        Assert.Null(gateway.Storage.Regions.Current.Find("Valid-Name"));
    }

    [Fact]
    public async Task Should_read_region_routes_in_any_case()
    {
        var (op, _, _) = await gateway.OperatorOfAsync("Nashik");

        var load = await (await op.GetAsync("/api/v1/grid/regions/nASHIK/load")).JsonAsync();
        var alerts = await op.GetAsync("/api/v1/alerts/operator/active?region=nashik");

        Assert.Equal("Nashik", load.GetProperty("region").GetString());
        Assert.Equal(HttpStatusCode.OK, alerts.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.GetAsync("/api/v1/grid/regions/Atlantis/load")).StatusCode);
    }

    [Fact]
    public async Task Should_show_a_keys_secret_once_list_keys_without_it_and_revoke_them()
    {
        using var admin = await gateway.AdminAsync();

        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/ingestion-keys",
            new { name = "head-end nashik", regions = new[] { "nashik" }, can_provision = true })).JsonAsync(HttpStatusCode.Created);
        var secret = created.GetProperty("secret").GetString()!;
        var id = created.GetProperty("id").GetString()!;

        Assert.StartsWith("sgk_", secret);
        Assert.StartsWith(created.GetProperty("prefix").GetString()!, secret);
        Assert.Equal(["Nashik"], created.GetProperty("regions").EnumerateArray().Select(r => r.GetString()));
        var key = await gateway.Storage.IngestionKeys.AuthenticateAsync(secret);
        Assert.True(key is { CanProvision: true } && key.Covers("Nashik") && !key.Covers("Pune-West"));
        var list = await (await admin.GetAsync("/api/v1/admin/ingestion-keys")).Content.ReadAsStringAsync();
        Assert.Contains(id, list);
        Assert.DoesNotContain(secret, list);
        Assert.DoesNotContain(secret[created.GetProperty("prefix").GetString()!.Length..], list);
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM ingestion_api_keys WHERE position($1::bytea IN secret_sha256) > 0",
            System.Text.Encoding.UTF8.GetBytes(secret)));

        var revoked = await (await admin.DeleteAsync($"/api/v1/admin/ingestion-keys/{id}")).JsonAsync();
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, revoked.GetProperty("revoked_at").ValueKind);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/v1/admin/ingestion-keys/{id}")).StatusCode);
        Assert.Null(await gateway.Storage.IngestionKeys.AuthenticateAsync(secret));
        await (await admin.PostAsJsonAsync("/api/v1/admin/ingestion-keys", new { name = "x", regions = new[] { "Atlantis" } })).FieldErrorAsync("regions");
    }

    [Fact]
    public async Task Should_refuse_the_registry_routes_to_anyone_but_an_admin()
    {
        var (op, _, _) = await gateway.OperatorOfAsync("Nashik");
        var (user, _, _, _) = await gateway.UserWithMeterAsync("Nashik");
        using var anonymous = gateway.Client(null);
        var keysBefore = await ScalarAsync("SELECT count(*) FROM ingestion_api_keys");

        foreach (var client in new[] { op, user })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/admin/regions", new { name = "Takeover", capacity_kw = 1 })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsJsonAsync("/api/v1/admin/regions/Nashik", new { capacity_kw = 1 })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync("/api/v1/admin/regions/Nashik")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/admin/ingestion-keys", new { name = "mine" })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/admin/ingestion-keys")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/v1/admin/ingestion-keys", new { name = "mine" })).StatusCode);

        var nashik = (await gateway.Storage.Regions.RefreshAsync()).Find("Nashik")!;
        Assert.True(nashik.IsActive);
        Assert.Equal(2500, nashik.Spec.CapacityKw);
        Assert.Null(gateway.Storage.Regions.Current.Find("Takeover"));
        Assert.Equal(keysBefore, await ScalarAsync("SELECT count(*) FROM ingestion_api_keys"));
    }

    private async Task<object?> ScalarAsync(string sql, params object[] parameters)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand(sql);
        foreach (var p in parameters)
            cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = p });
        return await cmd.ExecuteScalarAsync();
    }
}
