using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;

namespace SmartGrid.Gateway.Tests;

/// <summary>Set-ups the route specs share: accounts with a meter, an operator of some regions, polling.</summary>
internal static class Scenario
{
    private static int _nextMeter = 30_000_000;

    /// <summary>Meter ids no other spec uses (RouteSpecs counts from 20 000 000).</summary>
    public static string NewMeterId() => $"MTR-{Interlocked.Increment(ref _nextMeter):D8}";

    public static async Task<HttpClient> AdminAsync(this GatewayFixture gateway, Uri? baseAddress = null) =>
        gateway.Client((await gateway.LoginDemoAsync(DemoAccountSeeder.AdminEmail)).Access, baseAddress);

    /// <summary>A verified USER owning a new meter in <paramref name="region"/>; their client, id and meter.</summary>
    public static async Task<(HttpClient Client, Guid Id, string MeterId, string Access)> UserWithMeterAsync(this GatewayFixture gateway, string region)
    {
        using var admin = await gateway.AdminAsync();
        var (email, password, id) = await gateway.NewVerifiedUserAsync();
        var meter = NewMeterId();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/admin/meters", new { meter_id = meter, region })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/v1/admin/meters/{meter}/assignment", new { user_id = id })).StatusCode);
        var access = (await gateway.LoginAsync(email, password)).Access;
        return (gateway.Client(access), id, meter, access);
    }

    /// <summary>A verified OPERATOR of <paramref name="regions"/>; their client and id.</summary>
    public static async Task<(HttpClient Client, Guid Id, string Access)> OperatorOfAsync(this GatewayFixture gateway, params string[] regions)
    {
        using var admin = await gateway.AdminAsync();
        var (email, password, id) = await gateway.NewVerifiedUserAsync();
        var promote = await admin.PutAsJsonAsync($"/api/v1/admin/users/{id}/role", new { role = "OPERATOR", operator_regions = regions });
        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        var access = (await gateway.LoginAsync(email, password)).Access;
        return (gateway.Client(access), id, access);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>400 problem+json naming <paramref name="field"/>; returns its messages.</summary>
    public static async Task<string> FieldErrorAsync(this HttpResponseMessage response, string field)
    {
        var body = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out var messages), $"no error for '{field}': {body}");
        return messages.ToString();
    }

    /// <summary>Polls until <paramref name="condition"/> holds (the machine is shared and may be slow).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }

    /// <summary>Reads <paramref name="topic"/> from its start with a fresh group until a record matches; its key and value.</summary>
    public static async Task<(string Key, T Value)> ReadTopicAsync<T>(this GatewayFixture gateway, string topic, Func<string, T> parse, Func<T, bool> match)
    {
        SmartGrid.Kafka.KafkaNative.EnsureLoaded();
        using var consumer = new Confluent.Kafka.ConsumerBuilder<string, string>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = gateway.Broker.BootstrapServers,
            GroupId = "spec-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        try
        {
            while (DateTime.UtcNow < deadline)
            {
                var record = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(500)));
                if (record?.Message is { Value: { } value } && parse(value) is var parsed && match(parsed))
                    return (record.Message.Key, parsed);
            }
        }
        finally
        {
            consumer.Close();
        }
        throw new Xunit.Sdk.XunitException($"no matching record on {topic} within 30 s");
    }

    public static WindowAggregate Window15m(string meterId, string region, DateTimeOffset start, double energyKwh) =>
        WindowAggregate.Of(new TelemetryReading
        {
            MeterId = meterId, Timestamp = start.AddSeconds(5), Voltage = 230, Current = 10, PowerKw = energyKwh * 4, EnergyKwh = energyKwh,
        }, WindowSize.FifteenMinutes, region);

    public static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O"));
}
