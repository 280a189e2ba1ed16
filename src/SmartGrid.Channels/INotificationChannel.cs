namespace SmartGrid.Channels;

/// <summary>One way of reaching a user (email, webhook…). Throws when the delivery failed; the manager retries.</summary>
public interface INotificationChannel
{
    /// <summary>The channel's name in notification_preferences.channels and notification_log.channel.</summary>
    string Name { get; }

    /// <summary>The recipient's address on this channel, or null when they have none (then nothing is sent).</summary>
    string? DestinationOf(NotificationRecipient recipient);

    /// <summary>The recipient's key for this channel (the webhook signing secret), carried in <see cref="Notification.Secret"/>.</summary>
    string? SecretOf(NotificationRecipient recipient) => null;

    Task SendAsync(Notification notification, CancellationToken cancellationToken);
}

/// <summary>A user to notify, with their addresses, their channels and their quiet hours (none when null).</summary>
public sealed record NotificationRecipient(Guid UserId, string Role, string? Email, string? Phone, string? WebhookUrl,
    IReadOnlyList<string> Channels, string? PushToken = null, QuietHours? QuietHours = null, string? WebhookSecret = null);

/// <summary>
/// One rendered notification for one recipient on one channel. <see cref="IdempotencyKey"/> is
/// event + user + channel: receivers can de-duplicate on it too.
/// </summary>
public sealed record Notification(
    string IdempotencyKey,
    string Template,
    string Destination,
    string Subject,
    string Text,
    string Html,
    IReadOnlyDictionary<string, object?> Data,
    string? Secret = null);
