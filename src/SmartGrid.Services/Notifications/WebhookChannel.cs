using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SmartGrid.Services.Common;

namespace SmartGrid.Services.Notifications;

/// <summary>
/// Webhooks: HTTP POST of a JSON body to the user's URL, signed with
/// <c>X-SmartGrid-Signature: sha256=&lt;hex HMAC-SHA256 of the body bytes with the shared secret&gt;</c>
/// and carrying the idempotency key in <c>X-SmartGrid-Delivery</c>. Any non-2xx answer is a failure.
/// </summary>
public sealed class WebhookChannel(HttpClient http, WebhookSettings settings) : INotificationChannel
{
    public const string SignatureHeader = "X-SmartGrid-Signature";
    public const string DeliveryHeader = "X-SmartGrid-Delivery";

    public string Name => "webhook";

    public string? DestinationOf(NotificationRecipient recipient) =>
        Uri.TryCreate(recipient.WebhookUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? recipient.WebhookUrl : null;

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["idempotency_key"] = notification.IdempotencyKey,
            ["template"] = notification.Template,
            ["subject"] = notification.Subject,
            ["text"] = notification.Text,
            ["data"] = notification.Data,
        }, WireJson.Options);
        using var request = new HttpRequestMessage(HttpMethod.Post, notification.Destination);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(settings.Secret, body));
        request.Headers.TryAddWithoutValidation(DeliveryHeader, notification.IdempotencyKey);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        using var response = await http.SendAsync(request, timeout.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"webhook answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
    }

    /// <summary>The signature header's value for <paramref name="body"/>.</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
