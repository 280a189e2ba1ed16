using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Ingestion;
using SmartGrid.Storage;
using static SmartGrid.Integration.Tests.Ingestion.TestReadings;

namespace SmartGrid.Integration.Tests.Ingestion;

/// <summary>
/// POST /telemetry/batch against a real embedded Kafka broker and a real PostgreSQL database.
/// Each spec uses its own meter-id range (MTR-1000xxxx) and reads raw_readings back by key.
/// </summary>
[Collection(IngestionCollection.Name)]
public sealed class TelemetryBatchEndpointSpecs(IngestionFixture fixture)
{
    private const string ProblemJson = "application/problem+json";
    private HttpClient Client => fixture.Host.Client;

    [Fact]
    public async Task Should_accept_a_valid_batch_with_200_and_publish_each_reading_keyed_by_meter_id()
    {
        var meters = MeterIds(10_000_001, 20);
        var posted = meters.Select(m => Valid(m)).ToList();

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(Array(posted)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal(20, body.GetProperty("accepted").GetInt32());
        Assert.Equal(0, body.GetProperty("rejected").GetInt32());
        Assert.Equal(0, body.GetProperty("results").GetArrayLength());

        var records = fixture.ReadTopic(meters.ToHashSet());
        Assert.Equal(20, records.Count);
        foreach (var record in records)
        {
            var reading = JsonSerializer.Deserialize<TelemetryReading>(record.Message.Value)!;
            Assert.Equal(record.Message.Key, reading.MeterId);
            var sent = posted.Single(p => (string)p["meter_id"]! == reading.MeterId);
            Assert.Equal(DateTimeOffset.Parse((string)sent["timestamp"]!), reading.Timestamp);
            Assert.Equal(230.5, reading.Voltage);
            Assert.Equal(2.35, reading.PowerKw);
            Assert.Equal("Pune-West", reading.Region);
            Assert.NotNull(reading.IngestedAt);
            Assert.InRange(reading.IngestedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        }
    }

    [Fact]
    public async Task Should_answer_207_for_a_mixed_batch_publishing_the_good_ones_and_listing_the_bad_ones()
    {
        var meters = MeterIds(10_000_101, 5);
        var badVoltage = Valid(meters[1]);
        badVoltage["voltage"] = -1;
        var noMeter = Valid(meters[3]);
        noMeter.Remove("meter_id");
        JsonNode?[] batch = [Valid(meters[0]), badVoltage, Valid(meters[2]), noMeter, JsonValue.Create(42)];

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(new JsonArray(batch)));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        Assert.Equal(3, body.GetProperty("rejected").GetInt32());
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([1, 3, 4], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.All(results, r => Assert.Equal("rejected", r.GetProperty("status").GetString()));
        AssertError(results[0], "voltage");
        AssertError(results[1], "meter_id");
        AssertError(results[2], "$");

        var published = fixture.ReadTopic(meters.ToHashSet());
        Assert.Equal([meters[0], meters[2]], published.Select(r => r.Message.Key).Order());
    }

    [Fact]
    public async Task Should_answer_400_problem_json_listing_every_error_when_no_record_is_valid()
    {
        var meters = MeterIds(10_000_201, 2);
        var badVoltage = Valid(meters[0]);
        badVoltage["voltage"] = "high";
        var future = Valid(meters[1], secondsAgo: -3600);

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(Array([badVoltage, future])));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        var problem = await BodyAsync(response);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        var errors = problem.GetProperty("errors");
        Assert.Contains("number", errors.GetProperty("[0].voltage")[0].GetString());
        Assert.Contains("future", errors.GetProperty("[1].timestamp")[0].GetString());
        Assert.Equal(0, problem.GetProperty("accepted").GetInt32());
        Assert.Equal(2, problem.GetProperty("rejected").GetInt32());
        Assert.Equal([0, 1], problem.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("index").GetInt32()));
        Assert.Empty(fixture.ReadTopic(meters.ToHashSet()));
    }

    [Fact]
    public async Task Should_answer_400_for_malformed_json_saying_where()
    {
        const string body = "[{\"meter_id\": \"MTR-10000301\",\n  \"voltage\": }]";

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        var problem = await BodyAsync(response);
        Assert.Equal("Malformed JSON", problem.GetProperty("title").GetString());
        Assert.Contains("line 2", problem.GetProperty("errors").GetProperty("$")[0].GetString());
        Assert.Equal(2, problem.GetProperty("line").GetInt32());
    }

    [Fact]
    public async Task Should_answer_400_for_json_that_is_not_a_batch()
    {
        using var response = await Client.PostAsync(IngestionHosting.Route, Json("{\"meter_id\": \"MTR-10000351\"}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        Assert.True((await BodyAsync(response)).GetProperty("errors").TryGetProperty("$", out _));
    }

    [Fact]
    public async Task Should_answer_415_for_a_content_type_that_is_not_json()
    {
        var body = Array([Valid("MTR-10000401")]).ToJsonString();

        using var text = await Client.PostAsync(IngestionHosting.Route, Json(body, "text/plain"));
        using var none = await Client.PostAsync(IngestionHosting.Route, new ByteArrayContent(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        Assert.Equal(ProblemJson, text.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, none.StatusCode);
        Assert.Empty(fixture.ReadTopic(new HashSet<string> { "MTR-10000401" }));
    }

    [Fact]
    public async Task Should_answer_413_for_more_records_than_MaxBatch()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("{}", 5_001)) + "]";

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(ProblemJson, response.Content.Headers.ContentType?.MediaType);
        var problem = await BodyAsync(response);
        Assert.Contains("5001", problem.GetProperty("errors").GetProperty("readings")[0].GetString());
        Assert.Equal(5_000, problem.GetProperty("maxBatch").GetInt32());
    }

    [Fact]
    public async Task Should_answer_413_for_a_body_over_MaxBodyBytes_with_or_without_a_content_length()
    {
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning with { MaxBodyBytes = 1_024 });
        var body = Array(MeterIds(10_000_501, 10).Select(m => Valid(m))).ToJsonString();
        Assert.True(Encoding.UTF8.GetByteCount(body) > 1_024);

        using var declared = await host.Client.PostAsync(IngestionHosting.Route, Json(body));
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        chunked.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, IngestionHosting.Route) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal(ProblemJson, declared.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Equal(ProblemJson, streamed.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Should_accept_the_readings_wrapper_form()
    {
        var meters = MeterIds(10_000_551, 3);
        var body = new JsonObject { ["readings"] = Array(meters.Select(m => Valid(m))) };

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, (await BodyAsync(response)).GetProperty("accepted").GetInt32());
        Assert.Equal(meters, fixture.ReadTopic(meters.ToHashSet()).Select(r => r.Message.Key).Order());
    }

    [Fact]
    public async Task Should_register_new_meters_once_and_refuse_a_later_claim_of_another_region()
    {
        // A host of its own: a fresh registry cache, and metrics that only this spec moves.
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning);
        var meters = MeterIds(10_000_601, 3);
        long provisioned = 0, accepted = 0;
        using var listener = Listen(host, (name, value) =>
        {
            if (name == "meters.provisioned") Interlocked.Add(ref provisioned, value);
            if (name == "readings.accepted") Interlocked.Add(ref accepted, value);
        });

        using var first = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m, 90, "Nashik")))));
        // Before regions were the registry's, a later claim was published under the claimed region; now it is refused per record.
        using var second = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m, 80, "Pune-West")))));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.All((await BodyAsync(second)).GetProperty("results").EnumerateArray(), r => AssertError(r, "region"));
        Assert.Equal(3, Interlocked.Read(ref provisioned));
        Assert.Equal(3, Interlocked.Read(ref accepted));
        Assert.Equal(3, await fixture.ScalarAsync(
            "SELECT count(*) FROM meters WHERE meter_id = ANY($1) AND auto_provisioned AND region = 'Nashik'", (object)meters));
    }

    [Fact]
    public async Task Should_reject_readings_of_unregistered_meters_when_registration_is_required()
    {
        await using var host = await fixture.StartHostAsync(new IngestionOptions { RequireRegisteredMeters = true });
        var meters = MeterIds(10_000_701, 3);
        await new MeterRegistry(fixture.DataSource).EnsureRegisteredAsync([(meters[0], "Nashik"), (meters[2], "Nashik")]);

        using var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m, region: "Nashik")))));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var body = await BodyAsync(response);
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        var rejected = Assert.Single(body.GetProperty("results").EnumerateArray().ToList());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        AssertError(rejected, "meter_id");
        Assert.Equal([meters[0], meters[2]], fixture.ReadTopic(meters.ToHashSet()).Select(r => r.Message.Key).Order());
        Assert.Equal(0, await fixture.ScalarAsync("SELECT count(*) FROM meters WHERE meter_id = $1", meters[1]));

        // Nothing valid left once the unknown meter is the only one: 400, not 207.
        using var onlyUnknown = await host.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meters[1], region: "Nashik")])));
        Assert.Equal(HttpStatusCode.BadRequest, onlyUnknown.StatusCode);
        Assert.True((await BodyAsync(onlyUnknown)).GetProperty("errors").TryGetProperty("[0].meter_id", out _));
    }

    [Fact]
    public async Task Should_serve_the_endpoint_only_on_the_ingest_port()
    {
        // Mapped for port 3001 while listening elsewhere: host matching goes by the Host header.
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, mapPort: 3001);

        using var elsewhere = await host.Client.PostAsync(IngestionHosting.Route, Json("[]", "text/plain"));
        using var request = new HttpRequestMessage(HttpMethod.Post, IngestionHosting.Route) { Content = Json("[]", "text/plain") };
        request.Headers.Host = "127.0.0.1:3001";
        using var onIngestPort = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, onIngestPort.StatusCode);
    }

    [Fact]
    public async Task Should_refuse_a_reading_stamped_beyond_the_clock_skew_and_publish_the_rest()
    {
        var meters = MeterIds(10_000_901, 3);
        JsonNode?[] batch = [Valid(meters[0], secondsAgo: -240), Valid(meters[1], secondsAgo: -20), Valid(meters[2])];

        using var response = await Client.PostAsync(IngestionHosting.Route, Json(new JsonArray(batch)));

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        var rejected = Assert.Single((await BodyAsync(response)).GetProperty("results").EnumerateArray());
        Assert.Equal(0, rejected.GetProperty("index").GetInt32());
        var error = Assert.Single(rejected.GetProperty("errors").EnumerateArray());
        Assert.Equal(("timestamp", "must not be more than 30 seconds in the future"),
            (error.GetProperty("field").GetString(), error.GetProperty("reason").GetString()));
        Assert.Equal([meters[1], meters[2]], fixture.ReadTopic(meters.ToHashSet()).Select(r => r.Message.Key).Order());
    }

    [Fact]
    public async Task Should_take_the_clock_skew_from_the_options()
    {
        var meter = MeterIds(10_000_911, 1)[0];
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning with { MaxClockSkew = TimeSpan.FromMinutes(5) });

        using var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array([Valid(meter, secondsAgo: -240)])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static MeterListener Listen(IngestionHost host, Action<string, long> measured)
    {
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == IngestionMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => measured(instrument.Name, value));
        listener.Start();
        return listener;
    }
}
