using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SmartGrid.Channels;

/// <summary>
/// Where a webhook may go. A user's URL is a request our node makes on their behalf, so it must not
/// reach what only the node can reach: loopback (the management endpoint), link-local (cloud metadata at
/// 169.254.169.254), private and CGNAT networks, multicast and the like, in any IPv6 spelling of them.
/// The check is on IP addresses after DNS resolution, at save and again on the address actually
/// connected (<see cref="CreateHandler"/>), so a name that resolves elsewhere later (DNS rebinding)
/// gains nothing. <see cref="WebhookSettings.AllowedTargets"/> opens exceptions (an internal receiver).
/// </summary>
public sealed class WebhookTargets
{
    // Not routable on the public internet, or pointing back into our own networks.
    private static readonly IPNetwork[] Refused4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),        // "this network", unspecified
        IPNetwork.Parse("10.0.0.0/8"),       // private
        IPNetwork.Parse("100.64.0.0/10"),    // carrier-grade NAT (Alibaba's metadata 100.100.100.200)
        IPNetwork.Parse("127.0.0.0/8"),      // loopback
        IPNetwork.Parse("169.254.0.0/16"),   // link-local, cloud metadata 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),    // private
        IPNetwork.Parse("192.0.0.0/24"),     // IETF protocol assignments (Oracle's metadata 192.0.0.192)
        IPNetwork.Parse("192.168.0.0/16"),   // private
        IPNetwork.Parse("198.18.0.0/15"),    // benchmarking
        IPNetwork.Parse("224.0.0.0/4"),      // multicast
        IPNetwork.Parse("240.0.0.0/4"),      // reserved, broadcast 255.255.255.255
    ];

    private static readonly IPNetwork[] Refused6 =
    [
        IPNetwork.Parse("::/128"),           // unspecified
        IPNetwork.Parse("::1/128"),          // loopback
        IPNetwork.Parse("100::/64"),         // discard
        IPNetwork.Parse("fc00::/7"),         // unique local (AWS metadata fd00:ec2::254)
        IPNetwork.Parse("fe80::/10"),        // link-local
        IPNetwork.Parse("fec0::/10"),        // site-local (deprecated, still routed by some stacks)
        IPNetwork.Parse("ff00::/8"),         // multicast
    ];

    /// <summary>A save waits at most this long for DNS; a name that slow would fail deliveries too.</summary>
    public static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(3);

    private readonly IReadOnlyList<AllowedTarget> _allowed;

    public WebhookTargets(IEnumerable<string> allowedTargets) =>
        _allowed = allowedTargets.Select(t => AllowedTarget.Parse(t) ?? throw new FormatException(
            $"'{t}' is not an allowed webhook target: use an address or network with an optional port (10.0.0.5, 10.1.0.0/16:8443, [fd00::5]:443)")).ToArray();

    public static WebhookTargets From(WebhookSettings settings) => new(settings.AllowedTargets);

    /// <summary>Null when a webhook may connect to <paramref name="address"/>:<paramref name="port"/>, else why not.</summary>
    public string? Refusal(IPAddress address, int port)
    {
        if (_allowed.Any(a => a.Matches(address, port)))
            return null;
        return WhyNotPublic(address) is { } why ? $"{address} is {why}" : null;
    }

    /// <summary>Null when <paramref name="address"/> is a public unicast address, else what kind it is.</summary>
    public static string? WhyNotPublic(IPAddress address)
    {
        if (Embedded4(address) is { } v4)
            address = v4;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var hit = Array.FindIndex(Refused4, n => n.Contains(address));
            return hit < 0 ? null : Kind(Refused4[hit]);
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return Refused6.Any(n => n.Contains(address)) ? "not a public address (loopback, link-local, unique-local or multicast)" : null;
        return "not an IP address";
    }

    /// <summary>The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms.</summary>
    private static IPAddress? Embedded4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return null;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        var b = address.GetAddressBytes();
        if (b.Take(12).All(x => x == 0) && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1))
            return new IPAddress(b.AsSpan(12, 4));
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.Skip(4).Take(8).All(x => x == 0))
            return new IPAddress(b.AsSpan(12, 4));
        if (b[0] == 0x20 && b[1] == 0x02)
            return new IPAddress(b.AsSpan(2, 4));
        return null;
    }

    private static string Kind(IPNetwork network) => network.BaseAddress.GetAddressBytes()[0] switch
    {
        127 => "a loopback address",
        169 => "a link-local address (cloud metadata lives there)",
        10 or 172 or 192 when network.PrefixLength is 8 or 12 or 16 => "a private address",
        100 => "a carrier-grade NAT address",
        >= 224 => "a multicast, reserved or broadcast address",
        0 => "an unspecified address",
        _ => "not a public address",
    };

    /// <summary>
    /// Why <paramref name="url"/> may not be a webhook (scheme, credentials, a name that does not resolve, or any
    /// address it resolves to refused), or null when it may. Every address counts here, unlike at delivery: a
    /// name with one internal address is a name someone meant to point inside.
    /// </summary>
    public async Task<string?> CheckAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.UserInfo))
            return "must be an absolute http or https URL without credentials";
        IPAddress[] addresses;
        using var resolving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        resolving.CancelAfter(ResolveTimeout);
        try
        {
            addresses = await ResolveAsync(uri.IdnHost, resolving.Token);
        }
        catch (SocketException e)
        {
            return $"host '{uri.Host}' cannot be resolved ({e.SocketErrorCode})";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"host '{uri.Host}' could not be resolved within {ResolveTimeout.TotalSeconds:0} s";
        }
        var refusals = addresses.Select(a => Refusal(a, uri.Port)).OfType<string>().ToList();
        return refusals.Count > 0
            ? $"must reach a public address: {refusals[0]} (an administrator can allow an internal target with SmartGrid:Notifications:Webhook:AllowedTargets)"
            : null;
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);

    /// <summary>
    /// An HTTP handler that resolves the host itself, connects only to a permitted address (refused ones are
    /// skipped; none left fails the request) and follows no redirect, so a 30x cannot lead it inside either.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        ConnectCallback = async (context, ct) =>
        {
            var (host, port) = (context.DnsEndPoint.Host, context.DnsEndPoint.Port);
            var addresses = await ResolveAsync(host, ct);
            var permitted = addresses.Where(a => Refusal(a, port) is null).ToArray();
            if (permitted.Length == 0)
                throw new WebhookTargetRefusedException(
                    $"webhook target {host}:{port} refused: {string.Join("; ", addresses.Select(a => Refusal(a, port)))}");
            Exception? last = null;
            foreach (var address in permitted)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch (SocketException e)
                {
                    socket.Dispose();
                    last = e;
                }
            }
            throw last!;
        },
    };

    /// <summary>One entry of the allow-list: an address or network, any port or one.</summary>
    private sealed record AllowedTarget(IPNetwork Network, int? Port)
    {
        public bool Matches(IPAddress address, int port)
        {
            if (Port is { } p && p != port)
                return false;
            if (address.IsIPv4MappedToIPv6 && Network.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
                address = address.MapToIPv4();
            return Network.Contains(address);
        }

        public static AllowedTarget? Parse(string text)
        {
            var t = text.Trim();
            // Not for "[v6]:port": IPAddress.TryParse accepts it and drops the port.
            if (!t.StartsWith('[') && ParseNetwork(t) is { } whole)
                return new AllowedTarget(whole, null);
            var colon = t.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(t[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                return null;
            var head = t[..colon];
            if (head.StartsWith('[') && head.EndsWith(']'))
                head = head[1..^1];
            else if (head.Contains(':'))
                return null; // an IPv6 address with a port needs brackets
            return ParseNetwork(head) is { } network ? new AllowedTarget(network, port) : null;
        }

        private static IPNetwork? ParseNetwork(string text)
        {
            if (IPNetwork.TryParse(text, out var network))
                return network;
            return IPAddress.TryParse(text, out var address)
                ? new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
                : null;
        }
    }
}

/// <summary>A webhook's host resolved only to addresses it may not reach.</summary>
public sealed class WebhookTargetRefusedException(string message) : IOException(message);
