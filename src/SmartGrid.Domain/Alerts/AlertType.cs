using System.Text.Json.Serialization;

namespace SmartGrid.Domain.Alerts;

/// <summary>
/// What an alert is about. The wire name (upper case, as the seed spells it) is the text of alerts.type, of the alerts
/// topic and of the gateway's responses; <see cref="WireName"/> converts it both ways.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<AlertType>))]
public enum AlertType
{
    [JsonStringEnumMemberName("ANOMALY")] Anomaly = 1,

    /// <summary>An overload of a region, transformer or feeder.</summary>
    [JsonStringEnumMemberName("THRESHOLD")] Threshold = 2,

    [JsonStringEnumMemberName("OUTAGE")] Outage = 3,

    /// <summary>Storm mode: many of a region's meters silent or dropping together, as one regional alert.</summary>
    [JsonStringEnumMemberName("INCIDENT")] Incident = 4,

    /// <summary>A meter's 10-minute voltage means not EN 50160 compliant over the power-quality period (issue 17).</summary>
    [JsonStringEnumMemberName("POWER_QUALITY")] PowerQuality = 5,

    /// <summary>A meter's voltage above 110 % of nominal (issue 17).</summary>
    [JsonStringEnumMemberName("SWELL")] Swell = 6,
}

/// <summary>Where an alert stands in the operator lifecycle; the wire name is the text of alerts.status.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AlertStatus>))]
public enum AlertStatus
{
    [JsonStringEnumMemberName("active")] Active = 1,
    [JsonStringEnumMemberName("acknowledged")] Acknowledged = 2,
    [JsonStringEnumMemberName("resolved")] Resolved = 3,
}

public static class AlertTypeExtensions
{
    /// <summary>ANOMALY | THRESHOLD | OUTAGE | INCIDENT | POWER_QUALITY | SWELL.</summary>
    public static string ToWireName(this AlertType type) => WireName.Of(type);
}

public static class AlertStatusExtensions
{
    /// <summary>active | acknowledged | resolved.</summary>
    public static string ToWireName(this AlertStatus status) => WireName.Of(status);

    /// <summary>The operator lifecycle: acknowledge an active alert; resolve one that is active or acknowledged.</summary>
    public static bool CanMoveTo(this AlertStatus from, AlertStatus to) => to switch
    {
        AlertStatus.Acknowledged => from == AlertStatus.Active,
        AlertStatus.Resolved => from != AlertStatus.Resolved,
        _ => false,
    };
}
