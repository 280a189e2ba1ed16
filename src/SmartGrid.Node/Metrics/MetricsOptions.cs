using System.Net;

namespace SmartGrid.Node.Metrics;

/// <summary>Who may read <c>/metrics</c>: loopback clients, and a scraper sending <see cref="ScrapeToken"/> as a bearer token.</summary>
public sealed class MetricsOptions
{
    public const string Section = "SmartGrid:Metrics";
    public const int MinTokenLength = 16;

    /// <summary>None: only loopback clients are answered (a Prometheus elsewhere needs it).</summary>
    public string? ScrapeToken { get; set; }

    public MetricsOptions Validate()
    {
        if (!string.IsNullOrEmpty(ScrapeToken) && ScrapeToken.Trim().Length < MinTokenLength)
            throw new InvalidOperationException($"{Section}:ScrapeToken must be at least {MinTokenLength} characters");
        return this;
    }

    public bool Admits(HttpContext context)
    {
        if (context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
            return true;
        return BearerToken.Matches(context, ScrapeToken);
    }
}
