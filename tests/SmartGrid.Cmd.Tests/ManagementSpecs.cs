using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SmartGrid.Node.Management;

namespace SmartGrid.Cmd.Tests;

public sealed class ManagementSpecs
{
    [Fact]
    public void Should_refuse_a_non_loopback_bind_without_a_token()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new ManagementOptions { BindAddress = "0.0.0.0" }.Validate());
        Assert.Contains("SmartGrid:Management:Token", e.Message);
        Assert.Throws<InvalidOperationException>(() => new ManagementOptions { BindAddress = "10.1.2.3", Token = "short" }.Validate());
        Assert.Throws<InvalidOperationException>(() => new ManagementOptions { BindAddress = "localhost" }.Validate());
    }

    [Fact]
    public void Should_allow_loopback_without_a_token_and_anything_with_one()
    {
        Assert.Equal(System.Net.IPAddress.Loopback, new ManagementOptions().Validate());
        Assert.Equal(System.Net.IPAddress.IPv6Loopback, new ManagementOptions { BindAddress = "::1" }.Validate());
        Assert.Equal(System.Net.IPAddress.Any, new ManagementOptions { BindAddress = "0.0.0.0", Token = "0123456789abcdef" }.Validate());
    }

    [Fact]
    public void Should_keep_the_last_log_lines_oldest_first()
    {
        var ring = new LogRingBuffer(capacity: 3);
        Assert.Empty(ring.Last(10));
        var log = ring.CreateLogger("Test");
        for (var i = 1; i <= 5; i++) log.LogInformation("line {N}", i);
        var last = ring.Last(10);
        Assert.Equal(3, last.Count);
        Assert.EndsWith("info Test: line 3", last[0]);
        Assert.EndsWith("info Test: line 5", last[2]);
        Assert.EndsWith("line 5", Assert.Single(ring.Last(1)));
    }

    [Fact]
    public async Task Should_refuse_every_command_without_the_token_on_loopback_too()
    {
        await using var endpoint = await CommandEndpoint.StartAsync(new ManagementOptions());
        using var http = new HttpClient { BaseAddress = endpoint.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/cmd/cluster/show")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/cmd/cluster/leave?address=127.0.0.1:1", null)).StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", "anything-at-all-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/cmd/cluster/show")).StatusCode);
    }

    [Fact]
    public async Task Should_run_a_mutating_command_only_with_the_command_header()
    {
        const string token = "mgmt-spec-token-0123456789";
        await using var endpoint = await CommandEndpoint.StartAsync(new ManagementOptions { Token = token });
        using var http = new HttpClient { BaseAddress = endpoint.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);

        // What a forged form, or a webhook aimed at this port, can send: the right token would not even be enough.
        var forged = await http.PostAsync("/cmd/cluster/leave?address=127.0.0.1:1",
            new FormUrlEncodedContent([new("address", "127.0.0.1:1")]));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Contains(ManagementHosting.CommandHeader, await forged.Content.ReadAsStringAsync());

        // With the header it passes the guard and reaches the command (no actor system here: 503).
        var request = new HttpRequestMessage(HttpMethod.Post, "/cmd/cluster/leave?address=127.0.0.1:1");
        request.Headers.Add(ManagementHosting.CommandHeader, "1");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.SendAsync(request)).StatusCode);
        // Reading commands need only the token.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/cmd/cluster/show")).StatusCode);
    }

    [Fact]
    public async Task Should_generate_the_token_file_once_readable_only_by_its_owner()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sg-token-{Guid.NewGuid():N}");
        try
        {
            var file = Path.Combine(dir, ".data", "management-token");
            // Nodes of one cluster start together: all of them must end up with one token.
            var tokens = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => new ManagementOptions { TokenFile = file }.ResolveToken())));
            var token = Assert.Single(tokens.Distinct());
            Assert.True(token!.Length >= ManagementOptions.MinTokenLength);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.Equal([file], Directory.GetFiles(Path.GetDirectoryName(file)!));
            Assert.Equal(token, new ManagementOptions { TokenFile = file }.ResolveToken());
            // A configured token wins over the file; smartgrid-cmd finds the file from anywhere in the checkout.
            Assert.Equal("configured-token-0123456789", new ManagementOptions { Token = "configured-token-0123456789", TokenFile = file }.ResolveToken());
            Directory.CreateDirectory(Path.Combine(dir, "src", "deep"));
            Assert.Equal(token, SmartGrid.Cmd.CommandParser.DevelopmentToken(Path.Combine(dir, "src", "deep")));
            Assert.Null(new ManagementOptions().ResolveToken());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The command routes on a Kestrel listener of their own on loopback, as the node serves them, with no actor system.</summary>
    private sealed class CommandEndpoint(WebApplication app) : IAsyncDisposable
    {
        public Uri BaseAddress { get; } = new(app.Urls.First());

        public static async Task<CommandEndpoint> StartAsync(ManagementOptions options)
        {
            options.Token = options.ResolveToken();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(new LogRingBuffer());
            var app = builder.Build();
            ManagementHosting.MapCommands(app, app.Services, options);
            await app.StartAsync();
            return new CommandEndpoint(app);
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}
