using System.Net;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class OpenApiSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_describe_every_route_with_the_bearer_scheme()
    {
        using var client = gateway.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var paths = document.GetProperty("paths");
        foreach (var (path, method) in new[]
                 {
                     ("/api/v1/auth/login", "post"), ("/api/v1/telemetry/user/history", "get"), ("/api/v1/tariff/user/current", "get"),
                     ("/api/v1/tariff/user/history", "get"), ("/api/v1/tariff/admin/override", "post"),
                     ("/api/v1/tariff/admin/override/{overrideId}", "delete"), ("/api/v1/billing/admin/run", "post"),
                     ("/api/v1/billing/user/invoices", "get"), ("/api/v1/billing/user/invoices/{invoiceId}", "get"),
                     ("/api/v1/alerts/operator/active", "get"), ("/api/v1/alerts/operator/{alertId}", "get"),
                     ("/api/v1/alerts/operator/{alertId}/acknowledge", "put"), ("/api/v1/alerts/operator/{alertId}/resolve", "put"),
                     ("/api/v1/alerts/user", "get"), ("/api/v1/notifications/user/preferences", "put"), ("/api/v1/grid/regions", "get"),
                     ("/api/v1/grid/regions/{region}/load", "get"), ("/api/v1/meters/{meterId}/status", "get"), ("/api/v1/admin/users", "get"),
                 })
        {
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method} {path} is not documented");
        }
        Assert.DoesNotContain(paths.EnumerateObject(), p => !p.Name.StartsWith("/api/v1/", StringComparison.Ordinal));

        var bearer = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal(("http", "bearer"), (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString()));
        var current = paths.GetProperty("/api/v1/tariff/user/current").GetProperty("get");
        Assert.Contains(current.GetProperty("security").EnumerateArray(), r => r.TryGetProperty("Bearer", out _));
        Assert.False(paths.GetProperty("/api/v1/auth/login").GetProperty("post").TryGetProperty("security", out _));

        // Query parameters and bodies the handlers read by hand are declared too.
        var period = Assert.Single(paths.GetProperty("/api/v1/billing/admin/run").GetProperty("post").GetProperty("parameters").EnumerateArray());
        Assert.Equal(("period", "query", true), (period.GetProperty("name").GetString(), period.GetProperty("in").GetString(), period.GetProperty("required").GetBoolean()));
        var historyParameters = paths.GetProperty("/api/v1/tariff/user/history").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .Select(p => p.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["from", "to", "limit", "offset", "meter_id"], historyParameters);
        var example = paths.GetProperty("/api/v1/tariff/admin/override").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("example");
        Assert.Equal("Nashik", example.GetProperty("region").GetString());
    }

    [Fact]
    public async Task Should_list_the_real_status_codes_and_snake_case_response_schemas()
    {
        using var client = gateway.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var paths = document.GetProperty("paths");
        string[] Statuses(string path, string method) =>
            paths.GetProperty(path).GetProperty(method).GetProperty("responses").EnumerateObject().Select(r => r.Name).Order().ToArray();

        Assert.Equal(["201", "400", "401", "403", "409", "429", "503"], Statuses("/api/v1/admin/meters", "post"));
        Assert.Equal(["200", "400", "401", "403", "404", "429", "503"], Statuses("/api/v1/admin/meters/{meterId}", "get"));
        Assert.Equal(["204", "400", "401", "403", "404", "429", "503"], Statuses("/api/v1/admin/meters/{meterId}/assignment", "delete"));
        Assert.Equal(["200", "400", "401", "403", "404", "409", "429", "503"], Statuses("/api/v1/tariff/admin/override/{overrideId}", "delete"));
        Assert.Equal(["202", "400", "429", "503"], Statuses("/api/v1/auth/register", "post"));
        Assert.Equal(["200", "400", "401", "403", "429", "503"], Statuses("/api/v1/auth/login", "post"));
        Assert.Equal(["204", "401", "403", "429", "503"], Statuses("/api/v1/auth/logout", "post"));

        Assert.Equal(["access_token", "expires_at", "expires_in", "refresh_expires_at", "refresh_token", "token_type", "user"],
            PropertiesOf(document, paths.GetProperty("/api/v1/auth/login").GetProperty("post"), "200"));
        Assert.Equal(["assignment", "meter_id", "region"], PropertiesOf(document, paths.GetProperty("/api/v1/admin/meters").GetProperty("post"), "201"));
        Assert.Contains("pending_email", PropertiesOf(document, paths.GetProperty("/api/v1/notifications/user/preferences").GetProperty("put"), "200"));
        Assert.Contains("errors", PropertiesOf(document, paths.GetProperty("/api/v1/admin/meters").GetProperty("post"), "400", "application/problem+json"));
    }

    [Fact]
    public async Task Should_give_the_read_routes_their_snake_case_response_schemas()
    {
        using var client = gateway.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var paths = document.GetProperty("paths");
        JsonElement Get(string path) => paths.GetProperty(path).GetProperty("get");

        Assert.Equal(["from", "items", "limit", "meter_id", "next_from", "resolution", "to"],
            PropertiesOf(document, Get("/api/v1/telemetry/user/history"), "200"));
        Assert.Contains("window_start", ItemPropertiesOf(document, Get("/api/v1/telemetry/user/history"), "200"));
        Assert.Equal(["latest_15m", "latest_1m", "meter_id"], PropertiesOf(document, Get("/api/v1/telemetry/user/latest"), "200"));

        Assert.Equal(["items"], PropertiesOf(document, Get("/api/v1/grid/regions"), "200"));
        Assert.Equal(["alert_count_source", "load", "newest_partial", "open_alerts", "price_basis", "price_effective_from", "price_per_kwh", "price_reason", "region"],
            ItemPropertiesOf(document, Get("/api/v1/grid/regions"), "200"));
        Assert.Equal(["from", "items", "limit", "next_from", "region", "resolution", "to"],
            PropertiesOf(document, Get("/api/v1/grid/regions/{region}/load"), "200"));
        var loadWindow = ItemPropertiesOf(document, Get("/api/v1/grid/regions/{region}/load"), "200");
        Assert.Contains("load_percentage", loadWindow);
        Assert.Superset(new HashSet<string> { "meters_reported", "meters_expected", "completeness", "complete" }, loadWindow.ToHashSet());

        string[] page = ["items", "limit", "offset", "total"];
        Assert.Equal(page, PropertiesOf(document, Get("/api/v1/alerts/operator/active"), "200"));
        Assert.Contains("alert_id", ItemPropertiesOf(document, Get("/api/v1/alerts/operator/active"), "200"));
        Assert.Equal(page, PropertiesOf(document, Get("/api/v1/alerts/user"), "200"));
        Assert.Equal(["alert", "events"], PropertiesOf(document, Get("/api/v1/alerts/operator/{alertId}"), "200"));
        Assert.Contains("status", PropertiesOf(document, paths.GetProperty("/api/v1/alerts/operator/{alertId}/acknowledge").GetProperty("put"), "200"));

        Assert.Equal(page, PropertiesOf(document, Get("/api/v1/billing/user/invoices"), "200"));
        Assert.Contains("invoice_id", ItemPropertiesOf(document, Get("/api/v1/billing/user/invoices"), "200"));
        Assert.Contains("invoice_id", PropertiesOf(document, Get("/api/v1/billing/user/invoices/{invoiceId}"), "200"));

        Assert.Equal(["effective_from", "meter_id", "price_per_kwh", "reason", "region", "source", "tariff_id"],
            PropertiesOf(document, Get("/api/v1/tariff/user/current"), "200"));
        Assert.Equal(["from", "items", "limit", "meter_id", "offset", "region", "to", "total"],
            PropertiesOf(document, Get("/api/v1/tariff/user/history"), "200"));
        Assert.Contains("meter_id", PropertiesOf(document, Get("/api/v1/meters/{meterId}/status"), "200"));

        // No route answers JSON the document leaves undescribed: every success other than 202 and 204 has a schema.
        var bare = paths.EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Route: $"{o.Name} {p.Name}", Operation: o.Value)))
            .SelectMany(o => o.Operation.GetProperty("responses").EnumerateObject()
                .Where(r => r.Name.StartsWith('2') && r.Name is not ("202" or "204") && !r.Value.TryGetProperty("content", out _))
                .Select(r => $"{o.Route} {r.Name}"))
            .ToArray();
        Assert.Empty(bare);
    }

    /// <summary>The property names of the items of a response's list (its items array's element schema).</summary>
    private static string[] ItemPropertiesOf(JsonElement document, JsonElement operation, string status)
    {
        var items = Resolve(document, ResponseSchema(operation, status, "application/json")).GetProperty("properties").GetProperty("items");
        return Names(Resolve(document, Resolve(document, items).GetProperty("items")));
    }

    /// <summary>The property names of a response's schema, following a $ref into components.</summary>
    private static string[] PropertiesOf(JsonElement document, JsonElement operation, string status, string mediaType = "application/json") =>
        Names(Resolve(document, ResponseSchema(operation, status, mediaType)));

    private static JsonElement ResponseSchema(JsonElement operation, string status, string mediaType) =>
        operation.GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty(mediaType).GetProperty("schema");

    /// <summary>A schema, following a $ref into components.</summary>
    private static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    private static string[] Names(JsonElement schema) => schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order().ToArray();

    [Fact]
    public async Task Should_serve_the_browsable_ui_and_redirect_swagger_to_it()
    {
        using var client = gateway.Client();
        var ui = await client.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Equal("text/html", ui.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await ui.Content.ReadAsStringAsync());

        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.BaseAddress };
        var swagger = await noRedirect.GetAsync("/swagger");
        Assert.Equal(HttpStatusCode.Redirect, swagger.StatusCode);
        Assert.Equal("/scalar/v1", swagger.Headers.Location?.OriginalString);
    }
}
