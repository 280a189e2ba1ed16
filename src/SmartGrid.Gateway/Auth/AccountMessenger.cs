using System.Globalization;
using System.Text.Json.Serialization;
using SmartGrid.Channels;
using SmartGrid.Domain;

namespace SmartGrid.Gateway.Auth;

/// <summary>
/// What an account message is for; codes are bound to their purpose, whose wire name otp_verifications.purpose holds and
/// the message's notification key and template name are made of.
/// </summary>
public enum MessagePurpose
{
    [JsonStringEnumMemberName("EMAIL_VERIFICATION")] EmailVerification = 1,

    /// <summary>A notice without a code: the address someone registered with has an account already.</summary>
    [JsonStringEnumMemberName("REGISTRATION_ATTEMPT")] RegistrationAttempt = 2,

    [JsonStringEnumMemberName("EMAIL_CONFIRMATION")] EmailConfirmation = 3,
    [JsonStringEnumMemberName("PHONE_CONFIRMATION")] PhoneConfirmation = 4,
}

public static class MessagePurposeExtensions
{
    public static string ToWireName(this MessagePurpose purpose) => WireName.Of(purpose);
}

/// <summary>A message to one address of a user: a one-time code, or a notice without one.</summary>
public sealed record AccountMessage(Guid UserId, string Channel, string Address, MessagePurpose Purpose, string? Code = null, DateTimeOffset? ExpiresAt = null)
{
    public (string Subject, string Text) Render()
    {
        var until = ExpiresAt?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        return Purpose switch
        {
            MessagePurpose.EmailVerification => ("Your SmartGrid verification code",
                $"Your SmartGrid verification code is {Code}. It is valid until {until}. If you did not register, ignore this message."),
            MessagePurpose.RegistrationAttempt => ("Someone tried to register with your address",
                "Someone tried to create a SmartGrid account with this email address, which already has one. If it was you, log in " +
                "instead. If not, you need not do anything: no account was changed."),
            MessagePurpose.EmailConfirmation or MessagePurpose.PhoneConfirmation => ("Confirm your SmartGrid notification address",
                $"Your SmartGrid confirmation code is {Code} (valid until {until}). Alerts are sent to this address only once it is confirmed. " +
                "If you did not ask for this, ignore it."),
            _ => throw new ArgumentOutOfRangeException(nameof(Purpose), Purpose, "unknown purpose"),
        };
    }
}

/// <summary>Delivers account messages (codes and notices). Implementations never log a code.</summary>
public interface IAccountMessenger
{
    Task SendAsync(AccountMessage message, CancellationToken ct);
}

/// <summary>
/// Through the notification channels: email over the SMTP relay of <c>SmartGrid:Notifications:Smtp</c>,
/// SMS through the provider of <c>SmartGrid:Notifications:Sms</c> (no provider: SMS codes cannot be sent).
/// </summary>
public sealed class ChannelAccountMessenger(IEnumerable<INotificationChannel> channels) : IAccountMessenger
{
    private readonly Dictionary<string, INotificationChannel> _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public Task SendAsync(AccountMessage message, CancellationToken ct)
    {
        if (!_channels.TryGetValue(message.Channel, out var channel))
            throw new InvalidOperationException($"No '{message.Channel}' channel is configured (SmartGrid:Notifications)");
        var (subject, text) = message.Render();
        return channel.SendAsync(new Notification($"account:{message.Purpose.ToWireName()}:{message.UserId:N}:{Guid.NewGuid():N}",
            message.Purpose.ToWireName().ToLowerInvariant(),
            message.Address, subject, text, $"<p>{System.Net.WebUtility.HtmlEncode(text)}</p>", new Dictionary<string, object?>()), ct);
    }

    public static ChannelAccountMessenger From(ChannelSettings settings)
    {
        var list = new List<INotificationChannel> { new EmailChannel(settings.Smtp) };
        if (!string.IsNullOrWhiteSpace(settings.Sms.BaseUrl))
            list.Add(new SmsChannel(new HttpClient(), settings.Sms));
        return new ChannelAccountMessenger(list);
    }
}

/// <summary>
/// Development only: each message is written to a file of its own in a directory (mode 0600), so a
/// developer reads their code there (<c>.data/mail/</c>) and no log ever holds it.
/// </summary>
public sealed class MailDropMessenger(string directory, TimeProvider time) : IAccountMessenger
{
    public async Task SendAsync(AccountMessage message, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var (subject, text) = message.Render();
        var name = $"{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}-{Sanitize(message.Address)}-{message.Purpose.ToWireName().ToLowerInvariant()}-{Guid.NewGuid():N}.txt";
        await using var file = OwnerOnlyFile.CreateNew(Path.Combine(directory, name));
        await file.WriteAsync($"To: {message.Address} ({message.Channel})\nSubject: {subject}\n\n{text}\n".AsMemory(), ct);
    }

    private static string Sanitize(string address) =>
        new(address.Select(c => char.IsAsciiLetterOrDigit(c) || c is '@' or '.' or '+' or '-' ? c : '_').Take(80).ToArray());
}
