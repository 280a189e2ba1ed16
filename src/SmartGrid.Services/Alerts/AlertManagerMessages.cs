namespace SmartGrid.Services.Alerts;

/// <summary>
/// Look for silent meters and regions now, and resolve the outages of those reporting again (the
/// AlertManager also does it every <see cref="AlertSettings.OutageCheckInterval"/>). Answered with
/// <see cref="OutagesChecked"/>.
/// </summary>
public sealed record CheckOutages : Akka.Event.IDeadLetterSuppression
{
    public static readonly CheckOutages Instance = new();
}

/// <summary>Outage alerts opened and resolved by one check.</summary>
public sealed record OutagesChecked(int Raised, int Resolved);

/// <summary>
/// Judge every meter's power quality now (the AlertManager also does it every <see cref="AlertSettings.PowerQualityCheckInterval"/>).
/// Answered with <see cref="PowerQualityChecked"/>.
/// </summary>
public sealed record CheckPowerQuality : Akka.Event.IDeadLetterSuppression
{
    public static readonly CheckPowerQuality Instance = new();
}

/// <summary>POWER_QUALITY and SWELL alerts opened and resolved by one check.</summary>
public sealed record PowerQualityChecked(int Raised, int Resolved);
