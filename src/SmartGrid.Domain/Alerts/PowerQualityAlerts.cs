using SmartGrid.Domain.PowerQuality;

namespace SmartGrid.Domain.Alerts;

/// <summary>
/// When a meter's voltage deserves an operator's attention (issue 17): sustained EN 50160 non-compliance over
/// <see cref="Period"/> (EN 50160 judges a week of 10-minute means), once at least <see cref="MinimumWindows"/> means
/// were measured (a meter heard for an hour is not judged on it), and swells. Values come from SmartGrid:Services:Alerts
/// (AlertSettings), where their defaults live.
/// </summary>
public sealed record PowerQualityAlertPolicy(TimeSpan Period, int MinimumWindows, TimeSpan SwellQuiet)
{
    /// <summary>A swell this far over nominal (EN 50160's +15 % bound for short excursions) is high; below it medium.</summary>
    public const double HighSwellAbove = 1.15;

    /// <summary>
    /// The verdict on a meter's means over the period: true when it is judged and not compliant (raise), false when it is
    /// judged and compliant (an open alert resolves), null when too few means were measured to judge.
    /// </summary>
    public bool? NonCompliant(VoltageCompliance compliance) =>
        compliance.Windows < MinimumWindows || compliance.Compliant is not { } compliant ? null : !compliant;

    public static Severity SwellSeverity(double extremeVoltage, double nominal) =>
        extremeVoltage >= HighSwellAbove * nominal ? Severity.High : Severity.Medium;

    /// <summary>Non-compliance is medium: it is a slow drift for a planner, not an emergency.</summary>
    public static Severity NonComplianceSeverity => Severity.Medium;
}
