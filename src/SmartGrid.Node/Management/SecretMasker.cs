using System.Text.RegularExpressions;

namespace SmartGrid.Node.Management;

/// <summary>
/// Masks what <c>node config</c> must not show: values of keys that name a secret (passwords,
/// tokens, keys), the password part of connection strings (PostgreSQL "Password=", Redis
/// "password=") and credentials in URLs. Over-masking is cheap; a leaked password is not.
/// </summary>
public static partial class SecretMasker
{
    public const string Mask = "****";

    /// <summary>The value as it may be shown for configuration key <paramref name="key"/> ("A:B:C").</summary>
    public static string? MaskValue(string key, string? value)
    {
        if (string.IsNullOrEmpty(value)) return value;
        var last = key[(key.LastIndexOf(':') + 1)..];
        if (SecretKey().IsMatch(last)) return Mask;
        var masked = ConnectionStringSecret().Replace(value, m => $"{m.Groups[1].Value}={Mask}");
        return UrlCredentials().Replace(masked, m => $"{m.Groups[1].Value}{Mask}@");
    }

    // Whole configuration key segments that hold a secret: Token, Password, SigningKey, ApiKey, Secret, ...
    // "Keys" or "KeyPrefix" are not secrets, so "key" must end the segment.
    [GeneratedRegex(@"(password|passwd|pwd|secret|token|key|credentials?)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    // Password=..., pwd=..., password=... in ADO.NET, Npgsql and StackExchange.Redis connection strings.
    [GeneratedRegex(@"\b(password|pwd|passwd|secret|token|api[_-]?key|sasl\.password)\s*=\s*[^;,]*", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionStringSecret();

    // scheme://user:password@host
    [GeneratedRegex(@"([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@/\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlCredentials();
}
