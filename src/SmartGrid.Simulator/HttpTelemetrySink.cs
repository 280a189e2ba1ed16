using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Simulator;

/// <summary>
/// Posts batches to <c>/telemetry/batch</c> as a JSON array in the seed's format, with the
/// ingestion API key <paramref name="apiKey"/> as a bearer token when given.
/// </summary>
public sealed class HttpTelemetrySink(HttpClient client, Uri ingestUrl, string? apiKey = null) : ITelemetrySink
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly AuthenticationHeaderValue? _authorization = apiKey is null ? null : new("Bearer", apiKey);

    public async Task<SinkResult> SendAsync(IReadOnlyList<TelemetryReading> batch, CancellationToken ct)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(batch, SimulatorJsonContext.Default.IReadOnlyListTelemetryReading));
        content.Headers.ContentType = Json;
        using var request = new HttpRequestMessage(HttpMethod.Post, ingestUrl) { Content = content };
        request.Headers.Authorization = _authorization;
        using var response = await client.SendAsync(request, ct);
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK or HttpStatusCode.MultiStatus:
                var counts = await response.Content.ReadFromJsonAsync(SimulatorJsonContext.Default.BatchCounts, ct)
                             ?? throw new HttpRequestException("ingestion answered without a body");
                return new SinkResult(counts.Accepted, counts.Rejected);
            case HttpStatusCode.BadRequest:
                // No record of the batch was valid; the answer lists why, the simulator only counts.
                return new SinkResult(0, batch.Count);
            default:
                var detail = await response.Content.ReadAsStringAsync(ct);
                throw new HttpRequestException(
                    $"ingestion answered {(int)response.StatusCode} {response.ReasonPhrase}: {Truncate(detail, 300)}",
                    null, response.StatusCode);
        }
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}

/// <summary>The counts of ingestion's 200/207 answer; the per-record results are not needed here.</summary>
public sealed record BatchCounts(
    [property: JsonPropertyName("accepted")] int Accepted,
    [property: JsonPropertyName("rejected")] int Rejected);

[JsonSerializable(typeof(IReadOnlyList<TelemetryReading>))]
[JsonSerializable(typeof(BatchCounts))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
public sealed partial class SimulatorJsonContext : JsonSerializerContext;
