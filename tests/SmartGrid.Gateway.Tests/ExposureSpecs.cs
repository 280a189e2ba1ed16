using System.Net;
using System.Net.Http.Json;

namespace SmartGrid.Gateway.Tests;

/// <summary>Headers a browser relies on, and cross-origin calls answered on purpose.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ExposureSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_send_nosniff_on_every_answer_and_no_store_on_tokens()
    {
        using var anonymous = gateway.Client();
        var unauthorized = await anonymous.GetAsync("/api/v1/grid/regions");
        var notFound = await anonymous.GetAsync("/api/v1/no-such-route");
        var login = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email = "admin@smartgrid.local", password = GatewayFixture.DemoPassword });
        foreach (var response in new[] { unauthorized, notFound, login })
            Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.True(login.Headers.CacheControl?.NoStore);
        var refresh = await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = "not-a-token" });
        Assert.True(refresh.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task Should_deny_a_preflight_from_an_origin_not_configured()
    {
        using var client = gateway.Client();
        var response = await client.SendAsync(Preflight("https://evil.example"));
        Assert.NotEqual(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Should_allow_a_preflight_and_the_call_from_a_configured_origin_only()
    {
        const string origin = "https://grid.example.com";
        var allowed = await gateway.StartSecondGatewayAsync(gateway.Storage,
            settings: new Dictionary<string, string?> { ["SmartGrid:Gateway:CorsOrigins:0"] = origin });
        using var client = gateway.Client(baseAddress: allowed);

        var preflight = await client.SendAsync(Preflight(origin));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal([origin], preflight.Headers.GetValues("Access-Control-Allow-Origin"));
        Assert.Contains("GET", string.Join(",", preflight.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.False((await client.SendAsync(Preflight("https://grid.example.com.evil.example"))).Headers.Contains("Access-Control-Allow-Origin"));

        var call = new HttpRequestMessage(HttpMethod.Get, "/api/v1/grid/regions");
        call.Headers.Add("Origin", origin);
        var answered = await client.SendAsync(call);
        Assert.Equal(HttpStatusCode.Unauthorized, answered.StatusCode);
        Assert.Equal([origin], answered.Headers.GetValues("Access-Control-Allow-Origin"));
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/grid/regions");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");
        return request;
    }
}
