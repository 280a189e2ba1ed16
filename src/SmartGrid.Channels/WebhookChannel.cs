using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SmartGrid.Contracts;

namespace SmartGrid.Channels;

/// <summary>
/// Webhooks: HTTP POST of a JSON body to the user's URL with the idempotency key in <c>X-SmartGrid-Delivery</c>,
/// the send time in <c>X-SmartGrid-Timestamp</c> (Unix seconds) and
/// <c>X-SmartGrid-Signature: sha256=&lt;hex HMAC-SHA256 of "timestamp.body" with the subscription's secret&gt;</c>:
/// the timestamp is signed with the body so a receiver can refuse an old request replayed. It connects only
/// where <see cref="WebhookTargets"/> permits and follows no redirect. Any non-2xx answer is a failure.
/// </summary>
public sealed class WebhookChannel : INotificationChannel, IDisposable
{
    public const string SignatureHeader = "X-SmartGrid-Signature";
    public const string TimestampHeader = "X-SmartGrid-Timestamp";
    public const string DeliveryHeader = "X-SmartGrid-Delivery";

    private readonly HttpClient _http;
    private readonly WebhookSettings _settings;
    private readonly TimeProvider _time;

    public WebhookChannel(WebhookSettings settings, TimeProvider? time = null)
    {
        _settings = settings;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(WebhookTargets.From(settings).CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string Name => "webhook";

    /// <summary>Only with a secret: an unsigned webhook could not be told from a forged one, so none is sent.</summary>
    public string? DestinationOf(NotificationRecipient recipient) =>
        !string.IsNullOrEmpty(recipient.WebhookSecret) && Uri.TryCreate(recipient.WebhookUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? recipient.WebhookUrl
            : null;

    public string? SecretOf(NotificationRecipient recipient) => recipient.WebhookSecret;

    public async Task SendAsync(Notification notification, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(notification.Secret))
            throw new InvalidOperationException("a webhook needs its subscription's secret");
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["idempotency_key"] = notification.IdempotencyKey,
            ["template"] = notification.Template,
            ["subject"] = notification.Subject,
            ["text"] = notification.Text,
            ["data"] = notification.Data,
        }, WireJson.Options);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, notification.Destination);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(TimestampHeader, timestamp);
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(notification.Secret, timestamp, body));
        request.Headers.TryAddWithoutValidation(DeliveryHeader, notification.IdempotencyKey);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        using var response = await _http.SendAsync(request, timeout.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"webhook answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
    }

    /// <summary>The signature header's value: HMAC-SHA256 over the timestamp, a dot and the body bytes.</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>A new subscription secret: 32 random bytes, hex, prefixed so it is recognisable in a leak scan.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public void Dispose() => _http.Dispose();
}
