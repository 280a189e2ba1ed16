using System.Text.Json;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// Response bodies are snake_case like the rest of the system's wire formats (aggregates,
/// readings); the gateway uses its own options so the node's other endpoints are unaffected.
/// </summary>
internal static class GatewayJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Enums by their wire names (WindowSize "1m" / "15m" through JsonStringEnumMemberName).
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static IResult Ok<T>(T value) => Results.Json(value, Options);

    public static IResult Created<T>(string location, T value) =>
        new LocatedResult(location, Results.Json(value, Options, statusCode: StatusCodes.Status201Created));

    /// <summary>Adds a Location header to a JSON result.</summary>
    private sealed class LocatedResult(string location, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
