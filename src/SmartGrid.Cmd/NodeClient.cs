using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using SmartGrid.Contracts.Management;

namespace SmartGrid.Cmd;

/// <summary>Why a command did not run, with the exit code the tool ends with.</summary>
internal sealed class CommandFailedException(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int CommandFailed = 1;
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int Unauthorized = 4;
}

/// <summary>HTTP+JSON client of one node's command endpoint.</summary>
internal sealed class NodeClient : IDisposable
{
    private readonly HttpClient _http;

    public NodeClient(string host, string? token, TimeSpan? timeout = null)
    {
        Host = NormalizeHost(host);
        _http = new HttpClient { BaseAddress = new Uri($"http://{Host}/cmd/"), Timeout = Timeout.InfiniteTimeSpan };
        RequestTimeout = timeout ?? TimeSpan.FromSeconds(60);
        if (!string.IsNullOrWhiteSpace(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        _http.DefaultRequestHeaders.Add("X-SmartGrid-Operator", $"{Environment.UserName}@{Environment.MachineName}");
        // The node runs commands that change the cluster only with this header: no form or webhook can send it.
        _http.DefaultRequestHeaders.Add("X-SmartGrid-Cmd", "1");
    }

    public string Host { get; }
    public TimeSpan RequestTimeout { get; }

    /// <summary>"127.0.0.1:9110" (an http:// prefix and a trailing slash are tolerated); anything else is a usage error.</summary>
    public static string NormalizeHost(string host)
    {
        var h = host.Trim();
        if (h.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) h = h["http://".Length..];
        h = h.TrimEnd('/');
        if (!Uri.TryCreate($"http://{h}/", UriKind.Absolute, out var uri) || uri.IsDefaultPort || uri.PathAndQuery != "/" || h.Contains('@'))
            throw new CommandFailedException($"--host '{host}' is not host:port (e.g. {CommandParser.DefaultHost})", ExitCodes.Usage);
        return h;
    }

    public async Task<CommandOutput> RunAsync(NodeRequest request, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token, ct);
        await EnsureSuccessAsync(request, response, ct);
        return await response.Content.ReadFromJsonAsync<CommandOutput>(ct)
               ?? throw new CommandFailedException($"{Host} answered '{request.Command}' with an empty body", ExitCodes.CommandFailed);
    }

    /// <summary>Membership changes as the node streams them, until <paramref name="ct"/> is cancelled (Ctrl+C).</summary>
    public async IAsyncEnumerable<MembershipChange> TailAsync(NodeRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct, ct);
        await EnsureSuccessAsync(request, response, ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream);
        while (await ReadLineOrEndAsync(reader, ct) is { } line)
        {
            if (line.Length == 0) continue;
            var change = JsonSerializer.Deserialize<MembershipChange>(line);
            if (change is not null) yield return change;
        }
    }

    private static async Task<string?> ReadLineOrEndAsync(StreamReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadLineAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
        catch (IOException)
        {
            return null; // the node went away mid-stream: the tail ends
        }
    }

    private async Task<HttpResponseMessage> SendAsync(NodeRequest request, HttpCompletionOption completion, CancellationToken token, CancellationToken caller)
    {
        try
        {
            return await _http.SendAsync(new HttpRequestMessage(request.Method, request.PathAndQuery), completion, token);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException or IOException || e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
        {
            throw new CommandFailedException(
                $"cannot reach node {Host}: {e.InnerException?.Message ?? e.Message}. Is the node running, and is its SmartGrid:Management endpoint on this address?",
                ExitCodes.Unreachable);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            throw new CommandFailedException($"node {Host} did not answer '{request.Command}' within {RequestTimeout.TotalSeconds:0} s", ExitCodes.Unreachable);
        }
    }

    private async Task EnsureSuccessAsync(NodeRequest request, HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        Problem? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<Problem>(ct);
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy, or not our endpoint): the status line says enough.
        }
        catch (NotSupportedException)
        {
        }
        var detail = problem?.Detail ?? problem?.Title ?? response.ReasonPhrase ?? "";
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => new CommandFailedException(
                $"node {Host} refused the token for '{request.Command}' (401): pass the node's SmartGrid:Management:Token with --token or ${CommandParser.TokenVariable} (the development run's is in {CommandParser.DevelopmentTokenFile})",
                ExitCodes.Unauthorized),
            HttpStatusCode.BadRequest => new CommandFailedException($"{request.Command}: {detail}", ExitCodes.Usage),
            HttpStatusCode.NotFound when problem is null => new CommandFailedException(
                $"{Host} has no '{request.Command}' command endpoint (404): is this a SmartGrid node's management port?", ExitCodes.CommandFailed),
            _ => new CommandFailedException($"{request.Command}: {(problem?.Title is { } t && t != detail ? $"{t}: " : "")}{detail} ({(int)response.StatusCode})", ExitCodes.CommandFailed),
        };
    }

    public void Dispose() => _http.Dispose();
}
