using System.Text.Json.Serialization;

namespace SmartGrid.Cmd;

/// <summary>RFC 7807 problem details as the node sends them.</summary>
internal sealed record Problem(
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("status")] int? Status);
