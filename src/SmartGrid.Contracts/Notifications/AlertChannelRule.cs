using System.Text.Json;
using System.Text.Json.Serialization;

namespace SmartGrid.Contracts.Notifications;

/// <summary>
/// A user's channel choice for some alerts (notification_preferences.alert_rules): alerts of one of <see cref="Types"/> and one of
/// <see cref="Severities"/> (an empty list matches any) go to <see cref="Channels"/> (empty: not at all), whatever the user's
/// min_severity. The first matching rule wins; an alert no rule matches follows channels and min_severity as before.
/// </summary>
public sealed record AlertChannelRule(
    [property: JsonPropertyName("types")] string[] Types,
    [property: JsonPropertyName("severities")] string[] Severities,
    [property: JsonPropertyName("channels")] string[] Channels)
{
    public bool Matches(string alertType, string severity) =>
        (Types.Length == 0 || Types.Contains(alertType, StringComparer.OrdinalIgnoreCase))
        && (Severities.Length == 0 || Severities.Contains(severity, StringComparer.OrdinalIgnoreCase));

    /// <summary>The channels of the first rule matching, or null when none does.</summary>
    public static IReadOnlyList<string>? ChannelsFor(IEnumerable<AlertChannelRule> rules, string alertType, string severity) =>
        rules.FirstOrDefault(r => r.Matches(alertType, severity))?.Channels;

    public static IReadOnlyList<AlertChannelRule> Parse(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<AlertChannelRule[]>(json) ?? [];

    public static string Serialize(IEnumerable<AlertChannelRule> rules) => JsonSerializer.Serialize(rules.ToArray());
}
