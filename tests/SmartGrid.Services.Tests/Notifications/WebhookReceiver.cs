using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace SmartGrid.Services.Tests.Notifications;

/// <summary>
/// An HTTP receiver on 127.0.0.1 (HttpListener on a free port) that records every POST and answers
/// the status <c>respond(n)</c> gives for the n-th request (1-based); 200 by default.
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<int, int> _respond;
    private readonly ConcurrentQueue<ReceivedWebhook> _requests = new();
    private int _count;

    private readonly string? _location;

    /// <param name="location">The Location header of every answer (for a redirect).</param>
    public WebhookReceiver(Func<int, int>? respond = null, string? location = null)
    {
        _respond = respond ?? (_ => 200);
        _location = location;
        for (var tries = 0; ; tries++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                _listener = listener;
                Url = $"http://127.0.0.1:{port}/hook";
                break;
            }
            catch (HttpListenerException) when (tries < 10)
            {
                listener.Close();
            }
        }

        _ = LoopAsync();
    }

    public string Url { get; }

    public IReadOnlyList<ReceivedWebhook> Requests => _requests.ToList();

    public void Dispose() => _listener.Close();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            _requests.Enqueue(new ReceivedWebhook(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body.ToArray()));
            context.Response.StatusCode = _respond(Interlocked.Increment(ref _count));
            if (_location is not null)
                context.Response.RedirectLocation = _location;
            context.Response.Close();
        }
    }
}

public sealed record ReceivedWebhook(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);
