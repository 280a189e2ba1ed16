using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace SmartGrid.Channels;

/// <summary>Email over SMTP (MailKit): plain text and HTML alternatives, one connection per message.</summary>
public sealed class EmailChannel(SmtpSettings settings) : INotificationChannel
{
    public string Name => "email";

    public string? DestinationOf(NotificationRecipient recipient) => string.IsNullOrWhiteSpace(recipient.Email) ? null : recipient.Email;

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(settings.From));
        message.To.Add(MailboxAddress.Parse(notification.Destination));
        message.Subject = notification.Subject;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("smartgrid.local");
        message.Headers.Add("X-SmartGrid-Notification", notification.IdempotencyKey);
        message.Body = new BodyBuilder { TextBody = notification.Text, HtmlBody = notification.Html }.ToMessageBody();

        using var client = new SmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        await client.ConnectAsync(settings.Host, settings.Port,
            settings.StartTlsWhenAvailable ? SecureSocketOptions.StartTlsWhenAvailable : SecureSocketOptions.None, cancellationToken);
        if (!string.IsNullOrEmpty(settings.UserName))
            await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(true, cancellationToken);
    }
}
