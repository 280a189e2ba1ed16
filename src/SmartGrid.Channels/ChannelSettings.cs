using System.Globalization;

namespace SmartGrid.Channels;

/// <summary>
/// The part of <see cref="Section"/> that says how to reach a person. The NotificationManager's settings extend it;
/// the gateway binds only this part, for account codes and the webhook allow-list.
/// </summary>
public record ChannelSettings
{
    public const string Section = "SmartGrid:Notifications";

    public SmtpSettings Smtp { get; init; } = new();
    public WebhookSettings Webhook { get; init; } = new();
    public SmsSettings Sms { get; init; } = new();
    public PushSettings Push { get; init; } = new();

    /// <summary>Throws naming the key (SmartGrid:Notifications:Smtp:Port…) of the first impossible value.</summary>
    public void Validate()
    {
        const string path = Section;
        Require(!string.IsNullOrWhiteSpace(Smtp.Host), $"{path}:Smtp:Host", "is required");
        Require(Smtp.Port is > 0 and <= 65535, $"{path}:Smtp:Port", $"{Smtp.Port} is not a port");
        Require(MimeKit.MailboxAddress.TryParse(Smtp.From, out _), $"{path}:Smtp:From", $"'{Smtp.From}' is not a mail address");
        Require(Smtp.Password is null || !string.IsNullOrEmpty(Smtp.UserName), $"{path}:Smtp:UserName", "is required with a password");
        Positive(Smtp.Timeout, $"{path}:Smtp:Timeout");

        for (var i = 0; i < Webhook.AllowedTargets.Length; i++)
        {
            try
            {
                _ = new WebhookTargets([Webhook.AllowedTargets[i]]);
            }
            catch (FormatException e)
            {
                throw Invalid($"{path}:Webhook:AllowedTargets:{i}", e.Message);
            }
        }
        Positive(Webhook.Timeout, $"{path}:Webhook:Timeout");

        if (!string.IsNullOrWhiteSpace(Sms.BaseUrl))
        {
            RequireUrl(Sms.BaseUrl, $"{path}:Sms:BaseUrl");
            Require(!string.IsNullOrWhiteSpace(Sms.AccountSid), $"{path}:Sms:AccountSid", "is required with an SMS base URL");
            Require(!string.IsNullOrWhiteSpace(Sms.AuthToken), $"{path}:Sms:AuthToken", "is required with an SMS base URL");
            Require(!string.IsNullOrWhiteSpace(Sms.From), $"{path}:Sms:From", "is required with an SMS base URL");
            Positive(Sms.Timeout, $"{path}:Sms:Timeout");
        }

        if (!string.IsNullOrWhiteSpace(Push.BaseUrl))
        {
            RequireUrl(Push.BaseUrl, $"{path}:Push:BaseUrl");
            Require(!string.IsNullOrWhiteSpace(Push.ProjectId), $"{path}:Push:ProjectId", "is required with a push base URL");
            Require(!string.IsNullOrWhiteSpace(Push.AccessToken), $"{path}:Push:AccessToken", "is required with a push base URL");
            Positive(Push.Timeout, $"{path}:Push:Timeout");
        }
    }

    private static void Positive(TimeSpan value, string key) =>
        Require(value > TimeSpan.Zero, key, $"{value.ToString(null, CultureInfo.InvariantCulture)} must be positive");

    private static void Require(bool condition, string key, string problem)
    {
        if (!condition) throw Invalid(key, problem);
    }

    private static void RequireUrl(string value, string key) =>
        Require(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps),
            key, $"'{value}' is not an http(s) URL");

    private static InvalidOperationException Invalid(string key, string problem) => new($"Configuration {key}: {problem}");
}

/// <summary>The SMTP server (MailKit). No user name: no authentication.</summary>
public sealed record SmtpSettings
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 25;
    public string From { get; init; } = "SmartGrid <notifications@smartgrid.local>";
    /// <summary>Use STARTTLS when the server offers it.</summary>
    public bool StartTlsWhenAvailable { get; init; } = true;
    public string? UserName { get; init; }
    public string? Password { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Webhooks: the URL and its signing secret are the user's (notification_preferences.webhook_url, webhook_secret);
/// these settings are the node's.
/// </summary>
public sealed record WebhookSettings
{
    /// <summary>
    /// Exceptions to the public-addresses-only rule of <see cref="WebhookTargets"/>: addresses or networks with an optional
    /// port ("10.20.0.7:8443", "10.20.0.0/16", "[fd00::7]:443"). A setting, not an API: opening the node's own networks to
    /// requests users aim is an infrastructure decision, reviewed with the deployment, and a stolen ADMIN token cannot make it.
    /// </summary>
    public string[] AllowedTargets { get; init; } = [];
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>SMS provider (Twilio-style API). No base URL: no SMS channel.</summary>
public sealed record SmsSettings
{
    public string? BaseUrl { get; init; }
    public string AccountSid { get; init; } = "";
    public string AuthToken { get; init; } = "";
    public string From { get; init; } = "SmartGrid";
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Push provider (FCM HTTP v1-style API). No base URL: no push channel.</summary>
public sealed record PushSettings
{
    public string? BaseUrl { get; init; }
    public string ProjectId { get; init; } = "";
    public string AccessToken { get; init; } = "";
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}
