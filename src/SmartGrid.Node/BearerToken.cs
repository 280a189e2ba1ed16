using System.Security.Cryptography;
using System.Text;

namespace SmartGrid.Node;

/// <summary>The node's shared-secret checks (management token, metrics scrape token).</summary>
public static class BearerToken
{
    /// <summary>
    /// Whether the request's <c>Authorization: Bearer</c> equals <paramref name="expected"/>; never without one. Compared as
    /// SHA-256 digests in constant time, so neither the content nor the length leaks through timing.
    /// </summary>
    public static bool Matches(HttpContext context, string? expected)
    {
        if (string.IsNullOrWhiteSpace(expected)) return false;
        var header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)) return false;
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(header[bearer.Length..].Trim())),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected.Trim())));
    }
}
