using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SmartGrid.Channels;

/// <summary>
/// SMS through a Twilio-style HTTP API: <c>POST {BaseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json</c>,
/// form fields To, From, Body, HTTP Basic authentication with the account SID and auth token.
/// </summary>
public sealed class SmsChannel(HttpClient http, SmsSettings settings) : INotificationChannel
{
    public string Name => "sms";

    public string? DestinationOf(NotificationRecipient recipient) => string.IsNullOrWhiteSpace(recipient.Phone) ? null : recipient.Phone;

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var url = $"{settings.BaseUrl!.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(settings.AccountSid)}/Messages.json";
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["To"] = notification.Destination,
            ["From"] = settings.From,
            ["Body"] = $"{notification.Subject}: {notification.Text}",
        });
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
        await HttpChannel.SendAsync(http, request, settings.Timeout, cancellationToken);
    }
}

/// <summary>
/// Push through an FCM HTTP v1-style API: <c>POST {BaseUrl}/v1/projects/{ProjectId}/messages:send</c> with a
/// bearer token and <c>{"message": {"token", "notification": {"title", "body"}, "data"}}</c>; the device
/// token is notification_preferences.push_token.
/// </summary>
public sealed class PushChannel(HttpClient http, PushSettings settings) : INotificationChannel
{
    public string Name => "push";

    public string? DestinationOf(NotificationRecipient recipient) => string.IsNullOrWhiteSpace(recipient.PushToken) ? null : recipient.PushToken;

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var url = $"{settings.BaseUrl!.TrimEnd('/')}/v1/projects/{Uri.EscapeDataString(settings.ProjectId)}/messages:send";
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            message = new
            {
                token = notification.Destination,
                notification = new { title = notification.Subject, body = notification.Text },
                // FCM data values are strings.
                data = new Dictionary<string, string>
                {
                    ["template"] = notification.Template,
                    ["idempotency_key"] = notification.IdempotencyKey,
                },
            },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.AccessToken);
        await HttpChannel.SendAsync(http, request, settings.Timeout, cancellationToken);
    }
}

internal static class HttpChannel
{
    /// <summary>Sends with a timeout; any non-2xx answer is a failure.</summary>
    public static async Task SendAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(timeout);
        using var response = await http.SendAsync(request, linked.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{request.RequestUri!.Host} answered {(int)response.StatusCode} {response.ReasonPhrase}", null,
                response.StatusCode);
    }
}
