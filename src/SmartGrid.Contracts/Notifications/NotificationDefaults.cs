namespace SmartGrid.Contracts.Notifications;

/// <summary>
/// What a user who never saved notification preferences gets: the gateway reports these from
/// GET /api/v1/notifications/user/preferences and the NotificationManager notifies such users with
/// them, so what the user is shown is what happens. They match the column defaults of
/// notification_preferences (migration 0010), so a first save that changes nothing else keeps them.
/// </summary>
public static class NotificationDefaults
{
    /// <summary>Email only: it needs no address beyond the account's.</summary>
    public static IReadOnlyList<string> Channels { get; } = ["email"];

    /// <summary>The least severe alert a user is told about (wire name, as SmartGrid.Domain.Severity).</summary>
    public const string MinSeverity = "medium";
}
