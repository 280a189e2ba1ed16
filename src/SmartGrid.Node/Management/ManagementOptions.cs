using System.Net;

namespace SmartGrid.Node.Management;

/// <summary>
/// Where the SRE command endpoint (smartgrid-cmd) listens and the token it requires. Loopback
/// needs no token (whoever can reach it already has a shell on the host); anything else does.
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "SmartGrid:Management";
    public const int DefaultPort = 9110;
    /// <summary>Shorter tokens are guessable by anyone who can reach the port.</summary>
    public const int MinTokenLength = 16;

    public bool Enabled { get; set; } = true;
    public string BindAddress { get; set; } = "127.0.0.1";
    public int Port { get; set; } = DefaultPort;
    /// <summary>Bearer token every request must carry when set; required when <see cref="BindAddress"/> is not loopback.</summary>
    public string? Token { get; set; }

    public bool RequiresToken => !string.IsNullOrEmpty(Token);

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
}
