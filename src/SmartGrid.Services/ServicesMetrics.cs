using System.Diagnostics.Metrics;

namespace SmartGrid.Services;

/// <summary>
/// The grid services' instruments (Meter <see cref="MeterName"/>). Static because the managers
/// that report them are created by Akka, not by the container. Recorded only after the effect is
/// committed, so a rolled-back or redelivered record is not counted.
/// </summary>
public static class ServicesMetrics
{
    public const string MeterName = "SmartGrid.Services";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Tags: type (ANOMALY | THRESHOLD | OUTAGE), severity.</summary>
    public static readonly Counter<long> AlertsCreated = Meter.CreateCounter<long>("alerts.created", "{alert}",
        "Alerts opened (a repeat of an open alert is not a new alert)");

    /// <summary>Tags: type, transition (acknowledged | resolved), actor (system | operator).</summary>
    public static readonly Counter<long> AlertTransitions = Meter.CreateCounter<long>("alerts.transitions", "{transition}",
        "Alert lifecycle transitions after creation");

    /// <summary>Tags: region, reason (load-based | admin-override).</summary>
    public static readonly Counter<long> TariffUpdates = Meter.CreateCounter<long>("tariffs.updates", "{update}",
        "Changes of a region's price in force");

    /// <summary>Tags: channel (email | sms | push | webhook), status (sent | failed).</summary>
    public static readonly Counter<long> Notifications = Meter.CreateCounter<long>("notifications", "{notification}",
        "Notification deliveries by outcome (a failed one after its last attempt)");

    internal static void AlertEvent(string type, string severity, string action, string actor)
    {
        if (action == "created")
        {
            AlertsCreated.Add(1, new("type", type), new("severity", severity));
        }
        else
        {
            AlertTransitions.Add(1, new("type", type), new("transition", action),
                new("actor", actor == "system" ? "system" : "operator"));
        }
    }
}
