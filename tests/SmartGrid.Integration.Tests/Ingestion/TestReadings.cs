using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SmartGrid.Integration.Tests.Ingestion;

/// <summary>Readings in the seed's wire format, and helpers to post and read answers.</summary>
internal static class TestReadings
{
    /// <summary>A valid reading a minute ago (whole seconds, "Z" form, as the seed writes it).</summary>
    public static JsonObject Valid(string meterId, int secondsAgo = 60, string region = "Pune-West")
    {
        var ts = DateTimeOffset.UtcNow.AddSeconds(-secondsAgo);
        ts = new DateTimeOffset(ts.Ticks - ts.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        return new JsonObject
        {
            ["meter_id"] = meterId,
            ["timestamp"] = ts.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["voltage"] = 230.5,
            ["current"] = 10.2,
            ["power_kw"] = 2.35,
            ["energy_kwh"] = 0.59,
            ["power_factor"] = 0.98,
            ["frequency"] = 50.0,
            ["region"] = region,
        };
    }

    /// <summary>Meter ids of a test's own range, so specs sharing the broker never read each other's records.</summary>
    public static string[] MeterIds(int first, int count) =>
        Enumerable.Range(first, count).Select(i => $"MTR-{i:D8}").ToArray();

    public static StringContent Json(JsonNode body) => Json(body.ToJsonString());

    public static StringContent Json(string body, string mediaType = "application/json") =>
        new(body, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));

    public static JsonArray Array(IEnumerable<JsonNode> records) => new(records.ToArray());

    public static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A record result naming <paramref name="field"/> among its errors, with a reason.</summary>
    public static void AssertError(JsonElement result, string field)
    {
        var errors = result.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == field && e.GetProperty("reason").GetString()!.Length > 0);
    }
}
