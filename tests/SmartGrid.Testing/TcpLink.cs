using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace SmartGrid.Testing;

/// <summary>
/// A TCP forwarder between the system under test and a real server (PostgreSQL, Redis) that a
/// spec can cut and restore: cutting resets every open connection and refuses new ones, as a
/// server that crashed would, without stopping the shared server other specs use.
/// </summary>
public sealed class TcpLink : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private CancellationTokenSource _up = new();
    private Socket? _listener;

    private TcpLink(IPEndPoint target, int port)
    {
        _target = target;
        Port = port;
    }

    /// <summary>The port the system under test connects to instead of the server's.</summary>
    public int Port { get; }

    public static TcpLink To(string host, int port)
    {
        var link = new TcpLink(new IPEndPoint(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port), FreePort.Next());
        link.Restore();
        return link;
    }

    /// <summary>Accepts connections again, on the same port.</summary>
    public void Restore()
    {
        if (_listener is not null) return;
        _up = new CancellationTokenSource();
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, Port));
        listener.Listen(512);
        _listener = listener;
        _ = AcceptAsync(listener, _up.Token);
    }

    /// <summary>Resets every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        if (_listener is null) return;
        _up.Cancel();
        _listener.Dispose();
        _listener = null;
        foreach (var socket in _open.Keys) Reset(socket);
    }

    private async Task AcceptAsync(Socket listener, CancellationToken up)
    {
        while (!up.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(up); }
            catch (Exception) { return; }
            _ = ForwardAsync(client, up);
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken up)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            await server.ConnectAsync(_target, up);
            await Task.WhenAny(PumpAsync(client, server, up), PumpAsync(server, client, up));
        }
        catch (Exception)
        {
            // A cut or a peer that went away: both ends are reset below.
        }
        finally
        {
            Reset(client);
            Reset(server);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken up)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, up);
            if (read == 0) return;
            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, up);
        }
    }

    private void Reset(Socket socket)
    {
        if (!_open.TryRemove(socket, out _)) return;
        try
        {
            // Linger 0 sends RST: the peer sees a broken connection at once, not an orderly close.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception)
        {
            // Already gone.
        }
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        _up.Dispose();
        return ValueTask.CompletedTask;
    }
}
