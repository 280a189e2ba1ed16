using System.Text.Json.Serialization;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Ingestion;

/// <summary>Answer of <c>POST /telemetry/batch</c> (200 all accepted, 207 some rejected): counts, and one entry per rejected record.</summary>
public sealed record BatchResult(
    [property: JsonPropertyName("accepted")] int Accepted,
    [property: JsonPropertyName("rejected")] int Rejected,
    [property: JsonPropertyName("results")] IReadOnlyList<RecordResult> Results);

/// <summary>
/// What happened to the record at <see cref="Index"/> of the request's array; each error names its
/// field ("$" for the record itself). <see cref="Code"/> is the HTTP status the record alone would
/// have had: 400 for a bad record, 403 for one the key may not write.
/// </summary>
public sealed record RecordResult(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("errors")] IReadOnlyList<FieldError> Errors,
    [property: JsonPropertyName("code")] int Code = 400)
{
    public const string AcceptedStatus = "accepted";
    public const string RejectedStatus = "rejected";
    public const string ForbiddenStatus = "forbidden";

    public static RecordResult Forbidden(int index, string field, string reason) =>
        new(index, ForbiddenStatus, [new FieldError(field, reason)], 403);
}

/// <summary>
/// Source-generated contracts for what ingestion writes: readings on raw_readings (the seed's
/// snake_case names from <see cref="TelemetryReading"/>, absent optional values left out) and
/// its HTTP answers (camelCase: field, reason).
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TelemetryReading))]
[JsonSerializable(typeof(BatchResult))]
[JsonSerializable(typeof(IReadOnlyList<RecordResult>))]
public sealed partial class IngestionJsonContext : JsonSerializerContext;
