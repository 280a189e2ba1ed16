using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace SmartGrid.Gateway.Auth;

/// <summary>
/// The access tokens' HMAC keys: <see cref="Current"/> signs and validates; <see cref="Previous"/>
/// (a rotation's old key) only validates tokens issued before <see cref="PreviousAcceptedUntil"/>'s
/// node start, so it is worthless one token lifetime after the rotation even if it leaked.
/// Each key's id (<c>kid</c>) is a digest prefix, never the key.
/// </summary>
public sealed class SigningKeys
{
    private const int MinBytes = 32;

    /// <summary>
    /// SHA-256 digests of keys that were published (the repository's former development key, the
    /// docker/.env placeholder): anyone can forge tokens with them, so no node accepts them.
    /// </summary>
    private static readonly HashSet<string> PublishedKeyDigests = new(StringComparer.Ordinal)
    {
        "07158536a947a63d2685ca12c1c61ec318c0a47232784baa28435de2acc162c6",
        "b97587eb72b53578e815265061b4c27a35b6961bc8320644618382e913dc3853",
    };

    private SigningKeys(byte[] current, byte[]? previous, DateTimeOffset previousAcceptedUntil, string? generatedFile)
    {
        GeneratedFile = generatedFile;
        Current = Key(current);
        Previous = previous is null ? null : Key(previous);
        PreviousAcceptedUntil = previousAcceptedUntil;
        OtpKey = current;
    }

    /// <summary>The file of the installation's own key, when no key is configured (Development).</summary>
    public string? GeneratedFile { get; }

    public SymmetricSecurityKey Current { get; }
    public SymmetricSecurityKey? Previous { get; }

    /// <summary>A token validated by <see cref="Previous"/> must expire by then (start + one access-token lifetime).</summary>
    public DateTimeOffset PreviousAcceptedUntil { get; }

    /// <summary>The key of the one-time codes' digests.</summary>
    public byte[] OtpKey { get; }

    public IEnumerable<SecurityKey> ValidationKeys => Previous is null ? [Current] : [Current, Previous];

    /// <summary>
    /// The configured keys; in Development without a configured key, the installation's own from
    /// <see cref="GatewayOptions.SigningKeyFile"/>, generated (256 random bits, file mode 0600) on first start.
    /// </summary>
    public static SigningKeys Load(GatewayOptions options, bool isDevelopment, TimeProvider time)
    {
        var current = options.SigningKey;
        string? generatedFile = null;
        if (string.IsNullOrEmpty(current))
        {
            Check(current, nameof(GatewayOptions.SigningKey), required: !isDevelopment);
            generatedFile = Path.GetFullPath(options.SigningKeyFile);
            current = LoadOrCreate(generatedFile);
        }
        return new SigningKeys(Encoding.UTF8.GetBytes(current), options.PreviousSigningKey is { Length: > 0 } previous ? Encoding.UTF8.GetBytes(previous) : null,
            time.GetUtcNow() + options.AccessTokenLifetime + options.ClockSkew, generatedFile);
    }

    /// <summary>Throws naming <c>SmartGrid:Gateway:{name}</c> when the key is short, published, or missing while required.</summary>
    public static void Check(string? key, string name, bool required)
    {
        if (string.IsNullOrEmpty(key))
        {
            if (required)
                throw new InvalidOperationException($"{GatewayOptions.Section}:{name} is required outside Development: at least {MinBytes} random bytes, e.g. openssl rand -base64 32");
            return;
        }
        if (Encoding.UTF8.GetByteCount(key) < MinBytes)
            throw new InvalidOperationException($"{GatewayOptions.Section}:{name} must be at least {MinBytes} bytes (HMAC-SHA256)");
        if (PublishedKeyDigests.Contains(Digest(Encoding.UTF8.GetBytes(key))))
            throw new InvalidOperationException($"{GatewayOptions.Section}:{name} is a published key (anyone can forge tokens with it); generate a secret one");
    }

    private static string LoadOrCreate(string full)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        try
        {
            var key = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(MinBytes));
            using (var file = OwnerOnlyFile.CreateNew(full))
                file.Write(key);
            return key;
        }
        catch (IOException) when (File.Exists(full))
        {
            // Another node of the same checkout created it first (cluster up starts several at once).
            for (var attempt = 0; ; attempt++)
            {
                var key = File.ReadAllText(full).Trim();
                if (key.Length > 0 || attempt == 50)
                {
                    Check(key, $"SigningKey (from {full})", required: true);
                    return key;
                }
                Thread.Sleep(20);
            }
        }
    }

    private static SymmetricSecurityKey Key(byte[] bytes) => new(bytes) { KeyId = Digest(bytes)[..16] };

    private static string Digest(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
