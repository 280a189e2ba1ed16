using System.Collections.Concurrent;

namespace SmartGrid.Console.Tests;

/// <summary>The console's server-sent event stream read as a client of its own would (bearer token, text/event-stream).</summary>
public sealed class EventStream : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(string Kind, string Data)> _events = new();
    private Task _reading = Task.CompletedTask;

    public IReadOnlyList<(string Kind, string Data)> Events => _events.ToArray();

    public static async Task<EventStream> OpenAsync(HttpClient client)
    {
        var stream = new EventStream();
        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/console/events"),
            HttpCompletionOption.ResponseHeadersRead, stream._stop.Token);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStreamAsync(stream._stop.Token);
        stream._reading = Task.Run(() => stream.ReadAsync(body, response));
        await stream.WaitForAsync(e => e.Kind == "ready");
        return stream;
    }

    private async Task ReadAsync(Stream body, HttpResponseMessage response)
    {
        using var _ = response;
        using var reader = new StreamReader(body);
        string kind = "message", data = "";
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) kind = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data += line[6..];
                else if (line.Length == 0 && data.Length > 0)
                {
                    _events.Enqueue((kind, data));
                    (kind, data) = ("message", "");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task WaitForAsync(Func<(string Kind, string Data), bool> match)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!_events.Any(match))
        {
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"no such event; got: {string.Join(", ", _events.Select(e => e.Kind))}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }
}
