using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;

namespace SmartGrid.Gateway.Alerts;

/// <summary>
/// The alert types a client may name: in the alert lists' type filter, an escalation policy's type (escalation_policies
/// checks the same three) and a notification rule's types. Clients spell them in any case.
/// </summary>
internal static class SelectableAlertTypes
{
    public static readonly AlertType[] All = [AlertType.Anomaly, AlertType.Threshold, AlertType.Outage];

    /// <summary>Their wire names, for the error messages and the string lists of notification rules.</summary>
    public static readonly string[] Names = [.. All.Select(t => t.ToWireName())];

    /// <summary>The type <paramref name="text"/> names in any case; null when it names none of <see cref="All"/>.</summary>
    public static AlertType? Find(string text) =>
        WireName.TryParse(text.ToUpperInvariant(), out AlertType type) && All.Contains(type) ? type : null;
}
