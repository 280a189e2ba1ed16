using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class EscalationPolicySpecs(GatewayFixture gateway)
{
    private const string Route = "/api/v1/admin/escalation-policies";

    [Fact]
    public async Task Should_let_an_admin_create_read_replace_and_delete_a_policy()
    {
        using var admin = await gateway.AdminAsync();
        var (_, lead, _) = await gateway.OperatorOfAsync("Nashik");
        var name = "overloads " + Guid.NewGuid().ToString("N")[..8];

        var created = await admin.PostAsJsonAsync(Route, new
        {
            name, severity = "CRITICAL", type = "threshold", region = "pune-west",
            tiers = new object[] { new { roles = new[] { "OPERATOR" }, wait_minutes = 15 }, new { users = new[] { lead }, wait_minutes = 30 } },
        });
        var policy = await created.JsonAsync(HttpStatusCode.Created);
        var id = policy.GetProperty("policy_id").GetGuid();
        Assert.Equal($"{Route}/{id}", created.Headers.Location?.ToString());
        Assert.Equal(("critical", "THRESHOLD", "Pune-West"), (policy.GetProperty("severity").GetString(), policy.GetProperty("type").GetString(),
            policy.GetProperty("region").GetString()));
        var tiers = policy.GetProperty("tiers").EnumerateArray().ToList();
        Assert.Equal([15, 30], tiers.Select(t => t.GetProperty("wait_minutes").GetInt32()));
        Assert.Equal([lead], tiers[1].GetProperty("users").EnumerateArray().Select(u => u.GetGuid()));

        Assert.Contains(id, (await (await admin.GetAsync(Route)).JsonAsync()).GetProperty("items").EnumerateArray()
            .Select(p => p.GetProperty("policy_id").GetGuid()));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync(Route, new
        {
            name = name.ToUpperInvariant(), tiers = new[] { new { roles = new[] { "ADMIN" }, wait_minutes = 5 } },
        })).StatusCode);

        var replaced = await (await admin.PutAsJsonAsync($"{Route}/{id}", new
        {
            name, tiers = new[] { new { roles = new[] { "ADMIN" }, wait_minutes = 10 } },
        })).JsonAsync();
        Assert.Equal(JsonValueKind.Null, replaced.GetProperty("severity").ValueKind);
        Assert.Equal(10, replaced.GetProperty("tiers")[0].GetProperty("wait_minutes").GetInt32());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Route}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Route}/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"{Route}/{id}")).StatusCode);
    }

    [Fact]
    public async Task Should_refuse_an_invalid_policy_naming_each_field()
    {
        using var admin = await gateway.AdminAsync();
        var (_, customer, _, _) = await gateway.UserWithMeterAsync("Nashik");
        async Task<string> Error(object body, string field) => await (await admin.PostAsJsonAsync(Route, body)).FieldErrorAsync(field);
        var tier = new { roles = new[] { "OPERATOR" }, wait_minutes = 5 };

        Assert.Contains("required", await Error(new { tiers = new[] { tier } }, "name"));
        Assert.Contains("required", await Error(new { name = "x" }, "tiers"));
        Assert.Contains("1 to 5", await Error(new { name = "x", tiers = Array.Empty<object>() }, "tiers"));
        Assert.Contains("must be one of", await Error(new { name = "x", severity = "urgent", tiers = new[] { tier } }, "severity"));
        Assert.Contains("must be one of", await Error(new { name = "x", type = "FIRE", tiers = new[] { tier } }, "type"));
        Assert.Contains("must be one of", await Error(new { name = "x", region = "Atlantis", tiers = new[] { tier } }, "region"));
        Assert.Contains("at least one user or role", await Error(new { name = "x", tiers = new[] { new { wait_minutes = 5 } } }, "tiers[0].users"));
        Assert.Contains("from 1 to 1440", await Error(new { name = "x", tiers = new[] { tier, new { roles = new[] { "ADMIN" }, wait_minutes = 0 } } },
            "tiers[1].wait_minutes"));
        Assert.Contains("cannot be paged", await Error(new { name = "x", tiers = new[] { new { roles = new[] { "USER" }, wait_minutes = 5 } } },
            "tiers[0].roles"));
        Assert.Contains("only OPERATOR and ADMIN", await Error(new { name = "x", tiers = new[] { new { users = new[] { customer }, wait_minutes = 5 } } },
            "tiers[0].users[0]"));
        Assert.Contains("no active user", await Error(new { name = "x", tiers = new[] { new { users = new[] { Guid.NewGuid() }, wait_minutes = 5 } } },
            "tiers[0].users[0]"));
    }

    [Fact]
    public async Task Should_not_let_an_operator_or_a_user_manage_policies()
    {
        using var admin = await gateway.AdminAsync();
        var (op, _, _) = await gateway.OperatorOfAsync("Pune-West");
        var (user, _, _, _) = await gateway.UserWithMeterAsync("Pune-West");
        var name = "admin's " + Guid.NewGuid().ToString("N")[..8];
        var id = (await (await admin.PostAsJsonAsync(Route, new { name, tiers = new[] { new { roles = new[] { "ADMIN" }, wait_minutes = 5 } } }))
            .JsonAsync(HttpStatusCode.Created)).GetProperty("policy_id").GetGuid();
        var takeover = new { name = "mine", tiers = new[] { new { roles = new[] { "OPERATOR" }, wait_minutes = 1 } } };

        foreach (var client in new[] { op, user })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(Route)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync(Route, takeover)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsJsonAsync($"{Route}/{id}", takeover)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"{Route}/{id}")).StatusCode);
        }
        using var anonymous = gateway.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync(Route, takeover)).StatusCode);

        var after = await (await admin.GetAsync($"{Route}/{id}")).JsonAsync();
        Assert.Equal((name, 5), (after.GetProperty("name").GetString(), after.GetProperty("tiers")[0].GetProperty("wait_minutes").GetInt32()));
    }
}
