using System.Net;
using System.Security.Cryptography;

namespace SmartGrid.Node.Management;

/// <summary>
/// Where the SRE command endpoint (smartgrid-cmd) listens and the token it requires. Every command needs
/// the token, loopback included: a process that can only make requests on the host (a webhook, a forged
/// form in a browser) must not drive the cluster. The token is <see cref="Token"/>, or the one in
/// <see cref="TokenFile"/>, generated there on first start (the development run's <c>.data/management-token</c>).
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "SmartGrid:Management";
    public const int DefaultPort = 9110;
    /// <summary>Shorter tokens are guessable by anyone who can reach the port.</summary>
    public const int MinTokenLength = 16;
    /// <summary>Where the development run keeps its generated token, under the checkout (smartgrid-cmd looks there).</summary>
    public const string DevelopmentTokenFile = ".data/management-token";

    public bool Enabled { get; set; } = true;
    public string BindAddress { get; set; } = "127.0.0.1";
    public int Port { get; set; } = DefaultPort;
    /// <summary>Bearer token every request must carry; required when <see cref="BindAddress"/> is not loopback.</summary>
    public string? Token { get; set; }
    /// <summary>Without <see cref="Token"/>: a file holding it, created (mode 0600) with a random token when absent.</summary>
    public string? TokenFile { get; set; }

    /// <summary>Fails start-up with one line when the endpoint would be open to the network without a token.</summary>
    public IPAddress Validate()
    {
        if (!IPAddress.TryParse(BindAddress, out var address))
            throw new InvalidOperationException($"SmartGrid:Management:BindAddress '{BindAddress}' is not an IP address");
        if (Port is < 0 or > 65535)
            throw new InvalidOperationException($"SmartGrid:Management:Port {Port} is not a port");
        if (!IPAddress.IsLoopback(address) && string.IsNullOrWhiteSpace(Token))
            throw new InvalidOperationException(
                $"SmartGrid:Management:BindAddress {BindAddress} is not loopback: set SmartGrid:Management:Token (at least {MinTokenLength} characters) or bind to 127.0.0.1");
        if (!string.IsNullOrEmpty(Token) && Token.Trim().Length < MinTokenLength)
            throw new InvalidOperationException($"SmartGrid:Management:Token must be at least {MinTokenLength} characters");
        return address;
    }

    /// <summary>
    /// The configured token, else the one in <see cref="TokenFile"/> (made on first use), trimmed; null when there is
    /// neither, and then the endpoint does not start.
    /// </summary>
    public string? ResolveToken()
    {
        if (!string.IsNullOrWhiteSpace(Token))
            return Token.Trim();
        return string.IsNullOrWhiteSpace(TokenFile) ? null : ReadOrCreate(Path.GetFullPath(TokenFile));
    }

    private static string ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // CreateNew is O_EXCL: of nodes starting together exactly one creates the file, and every other one reads
            // that token. (A temporary file moved into place is not enough: File.Move without overwrite checks for the
            // target and then renames, so two nodes could both "win" and end up with different tokens.)
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                var created = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
                using (var file = new StreamWriter(path, System.Text.Encoding.ASCII, options))
                    file.Write(created);
                return created;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another node created it first: read its token below.
            }
        }

        // The creator may still be writing its token (one short write): give it a moment before calling the file wrong.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var token = File.ReadAllText(path).Trim();
            if (token.Length >= MinTokenLength)
                return token;
            Thread.Sleep(20);
        }
        throw new InvalidOperationException($"SmartGrid:Management:TokenFile {path} holds fewer than {MinTokenLength} characters");
    }
}
