using System.Text.Json.Serialization;

namespace SmartGrid.Domain;

/// <summary>
/// How urgent an anomaly or alert is. The seed's alerts carry exactly these four levels,
/// lower-case on the wire; the numeric order lets callers compare (<c>High &gt; Medium</c>).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<Severity>))]
public enum Severity
{
    [JsonStringEnumMemberName("low")] Low = 1,
    [JsonStringEnumMemberName("medium")] Medium = 2,
    [JsonStringEnumMemberName("high")] High = 3,
    [JsonStringEnumMemberName("critical")] Critical = 4,
}

public static class SeverityExtensions
{
    /// <summary>The seed's wire name: low | medium | high | critical.</summary>
    public static string ToWireName(this Severity severity) => WireName.Of(severity);

    /// <summary>Every level's wire name, lowest first: what a client may name where it picks a severity.</summary>
    public static readonly string[] WireNames = [.. Enum.GetValues<Severity>().Select(ToWireName)];

    /// <summary>The order of a wire name in any case (low 1 … critical 4), 0 for anything else: compare severities as sent.</summary>
    public static int RankOf(string? wireName) => WireName.TryParse(wireName?.ToLowerInvariant(), out Severity severity) ? (int)severity : 0;
}
