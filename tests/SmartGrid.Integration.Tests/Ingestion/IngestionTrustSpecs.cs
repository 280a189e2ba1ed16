using System.Net;
using System.Text.Json;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Ingestion;
using SmartGrid.Storage;
using static SmartGrid.Integration.Tests.Ingestion.TestReadings;

namespace SmartGrid.Integration.Tests.Ingestion;

/// <summary>
/// Who may write what through POST /telemetry/batch: regions are the registry's, not the
/// reading's, and every request needs an ingestion key that covers the regions it writes.
/// Real PostgreSQL, real HTTP, the embedded broker; each spec has its own meter range (MTR-1300xxxx, apart from the ledger specs in the same fixture).
/// </summary>
[Collection(IngestionCollection.Name)]
public sealed class IngestionTrustSpecs(IngestionFixture fixture)
{
    private const string ProblemJson = "application/problem+json";

    [Fact]
    public async Task Should_change_nothing_for_a_forged_region()
    {
        var meters = MeterIds(13_000_001, 3);
        var regionsBefore = await fixture.ScalarAsync("SELECT count(*) FROM regions");

        using var response = await fixture.Host.Client.PostAsync(IngestionHosting.Route, Json(Array(
        [
            Valid(meters[0], region: "EvilRegion"),
            Valid(meters[1], region: "Nashik'; DROP TABLE meters;--"),
            Valid(meters[2], region: "Unassigned"),
        ])));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var results = (await BodyAsync(response)).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(3, results.Count);
        Assert.All(results, r => AssertError(r, "region"));
        Assert.Equal(regionsBefore, await fixture.ScalarAsync("SELECT count(*) FROM regions"));
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM regions WHERE name IN ('EvilRegion', 'Unassigned') OR name LIKE 'Nashik''%'"));
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id = ANY($1)", (object)meters));
        Assert.Empty(fixture.ReadTopic(meters.ToHashSet()));
    }

    [Fact]
    public async Task Should_refuse_a_mismatched_region_per_record_and_give_a_reading_without_region_its_meters_one()
    {
        var meters = MeterIds(13_000_101, 3);
        await new MeterRegistry(fixture.DataSource).EnsureRegisteredAsync(meters.Select(m => (m, "Nashik")));
        var withoutRegion = WithoutRegion(Valid(meters[2]));

        using var response = await fixture.Host.Client.PostAsync(IngestionHosting.Route, Json(Array(
            [Valid(meters[0], region: "Nashik"), Valid(meters[1], region: "Pune-West"), withoutRegion])));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        var refused = Assert.Single(body.GetProperty("results").EnumerateArray().ToList());
        Assert.Equal(1, refused.GetProperty("index").GetInt32());
        Assert.Equal(400, refused.GetProperty("code").GetInt32());
        AssertError(refused, "region");
        var published = Published(meters);
        Assert.Equal([meters[0], meters[2]], published.Keys.Order());
        Assert.All(published.Values, r => Assert.Equal("Nashik", r.Region));
    }

    [Fact]
    public async Task Should_match_a_region_in_any_case_and_publish_and_register_its_stored_spelling()
    {
        var meter = MeterIds(13_000_201, 1)[0];

        using var response = await fixture.Host.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meter, region: "nASHIK")])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Nashik", Published([meter])[meter].Region);
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id = $1 AND region = 'Nashik'", meter));
    }

    [Fact]
    public async Task Should_answer_401_problem_with_a_challenge_without_a_key_or_with_an_unknown_one()
    {
        var meter = MeterIds(13_000_301, 1)[0];
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, apiKey: "");

        using var none = await host.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meter)])));
        using var unknownRequest = new HttpRequestMessage(HttpMethod.Post, IngestionHosting.Route) { Content = Json(Array([Valid(meter)])) };
        unknownRequest.Headers.Add(IngestionAuthenticator.ApiKeyHeader, "sgk_" + new string('A', 43));
        using var unknown = await host.Client.SendAsync(unknownRequest);

        foreach (var response in new[] { none, unknown })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
        Assert.Contains("invalid_token", unknown.Headers.WwwAuthenticate.Single().Parameter);
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id = $1", meter));
        Assert.Empty(fixture.ReadTopic(new HashSet<string> { meter }));
    }

    [Fact]
    public async Task Should_refuse_a_revoked_key_once_the_cache_reloads_and_take_keys_as_x_api_key()
    {
        var meter = MeterIds(13_000_401, 1)[0];
        // The admin's node and the ingestion node are two processes: two caches.
        var admin = new IngestionKeys(fixture.DataSource);
        var (key, secret) = await admin.CreateAsync("head-end", null, canProvision: true, "specs");
        var refresh = TimeSpan.FromSeconds(1);
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, apiKey: "", keyRefresh: refresh);

        using var before = await PostWithApiKeyAsync(host, secret, Valid(meter, 90));
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.True((await admin.RevokeAsync(key.Id, "specs")).Revoked);

        // Refused within the ingestion node's cache refresh (plus room for a loaded machine).
        var deadline = DateTime.UtcNow + refresh + TimeSpan.FromSeconds(10);
        HttpStatusCode status;
        do
        {
            using var after = await PostWithApiKeyAsync(host, secret, Valid(meter, 30));
            status = after.StatusCode;
            if (status != HttpStatusCode.Unauthorized)
                await Task.Delay(200);
        } while (status != HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.NotNull((await admin.ListAsync()).Single(k => k.Id == key.Id).LastUsedAt);
    }

    [Fact]
    public async Task Should_refuse_with_403_per_record_what_the_key_may_not_write_and_accept_the_rest()
    {
        var meters = MeterIds(13_000_501, 2);
        await new MeterRegistry(fixture.DataSource).EnsureRegisteredAsync([(meters[0], "Nashik"), (meters[1], "Pune-West")]);
        var (_, nashikOnly) = await new IngestionKeys(fixture.DataSource).CreateAsync("nashik head-end", ["Nashik"], canProvision: false, "specs");
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, apiKey: nashikOnly);

        using var mixed = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => WithoutRegion(Valid(m))))));
        using var outside = await host.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meters[1], 30, "Pune-West")])));

        Assert.Equal(HttpStatusCode.MultiStatus, mixed.StatusCode);
        var refused = Assert.Single((await BodyAsync(mixed)).GetProperty("results").EnumerateArray().ToList());
        Assert.Equal(1, refused.GetProperty("index").GetInt32());
        Assert.Equal("forbidden", refused.GetProperty("status").GetString());
        Assert.Equal(403, refused.GetProperty("code").GetInt32());
        AssertError(refused, "region");
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        Assert.Equal([meters[0]], Published(meters).Keys);
    }

    [Fact]
    public async Task Should_register_a_meter_only_through_a_provisioning_key_and_only_into_a_known_region()
    {
        var meters = MeterIds(13_000_601, 4);
        var (_, plain) = await new IngestionKeys(fixture.DataSource).CreateAsync("no provisioning", null, canProvision: false, "specs");
        await using var plainHost = await fixture.StartHostAsync(IngestionFixture.Provisioning, apiKey: plain);
        await using var closed = await fixture.StartHostAsync(new IngestionOptions());
        var noRegion = WithoutRegion(Valid(meters[2]));

        using var byPlainKey = await plainHost.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meters[0])])));
        using var registrationRequired = await closed.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meters[1])])));
        using var provisioning = await fixture.Host.Client.PostAsync(IngestionHosting.Route, Json(Array(
            [noRegion, Valid(meters[3], region: "Atlantis"), Valid(meters[3], 30, "Mumbai-North")])));

        Assert.Equal(HttpStatusCode.BadRequest, byPlainKey.StatusCode);
        AssertError((await BodyAsync(byPlainKey)).GetProperty("results")[0], "meter_id");
        Assert.Equal(HttpStatusCode.BadRequest, registrationRequired.StatusCode);
        AssertError((await BodyAsync(registrationRequired)).GetProperty("results")[0], "meter_id");
        Assert.Equal(HttpStatusCode.MultiStatus, provisioning.StatusCode);
        var results = (await BodyAsync(provisioning)).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.All(results, r => AssertError(r, "region"));
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id = ANY($1)", (object)meters));
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id = $1 AND region = 'Mumbai-North'", meters[3]));
    }

    [Fact]
    public async Task Should_take_readings_without_a_key_in_the_open_mode_but_still_refuse_a_bad_key()
    {
        var meter = MeterIds(13_000_701, 1)[0];
        await using var open = await fixture.StartHostAsync(IngestionFixture.Provisioning with { RequireApiKey = false }, apiKey: "");

        using var keyless = await open.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meter)])));
        using var badKey = await PostWithApiKeyAsync(open, "sgk_not-a-key-at-all-but-long-enough", Valid(meter, 30));

        Assert.Equal(HttpStatusCode.OK, keyless.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        Assert.Equal("Pune-West", Assert.Single(Published([meter]).Values).Region);
    }

    private static System.Text.Json.Nodes.JsonObject WithoutRegion(System.Text.Json.Nodes.JsonObject reading)
    {
        reading.Remove("region");
        return reading;
    }

    private static async Task<HttpResponseMessage> PostWithApiKeyAsync(IngestionHost host, string secret, System.Text.Json.Nodes.JsonObject reading)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, IngestionHosting.Route) { Content = Json(Array([reading])) };
        request.Headers.Add(IngestionAuthenticator.ApiKeyHeader, secret);
        return await host.Client.SendAsync(request);
    }

    private Dictionary<string, TelemetryReading> Published(IReadOnlyCollection<string> meters) =>
        fixture.ReadTopic(meters.ToHashSet())
            .Select(r => JsonSerializer.Deserialize<TelemetryReading>(r.Message.Value)!)
            .GroupBy(r => r.MeterId)
            .ToDictionary(g => g.Key, g => g.Single());
}
