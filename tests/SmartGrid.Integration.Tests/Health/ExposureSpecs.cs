using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using SmartGrid.Integration.Tests.Pipeline;

namespace SmartGrid.Integration.Tests.Health;

/// <summary>
/// What a node bound beyond loopback tells a stranger: /metrics nothing without the scrape token, /health/ready only ready
/// or not, the checks (with hosts and the Akka address) only with the management token. Asked through this host's own
/// non-loopback address, as a client on the network would.
/// </summary>
public sealed class ExposureSpecs
{
    private const string ScrapeToken = "scrape-spec-token-0123456789";

    [Fact]
    public async Task Should_serve_metrics_and_readiness_details_only_to_loopback_or_the_right_token()
    {
        var port = FreePort.Next();
        await using var node = await PipelineNode.StartAsync("processor",
        [
            .. NodeHealthSpecs.WithManagementToken(port), "--SmartGrid:Http:BindAddress=0.0.0.0", $"--SmartGrid:Metrics:ScrapeToken={ScrapeToken}",
        ]);
        var outside = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? throw new InvalidOperationException("this host has no non-loopback IPv4 address to ask from");
        using var stranger = new HttpClient { BaseAddress = new Uri($"http://{outside}:{port}") };
        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(stranger, "/metrics", "not-the-scrape-token-0123")).StatusCode);
        var scraped = await Get(stranger, "/metrics", ScrapeToken);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("smartgrid_cluster_node_info", await scraped.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await local.GetAsync("/metrics")).StatusCode);

        // Ready or not to anyone; loopback is not enough for the details.
        foreach (var anonymous in new[] { stranger, local })
        {
            var ready = await anonymous.GetAsync("/health/ready");
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(JsonDocument.Parse(body).RootElement.TryGetProperty("status", out _), body);
            Assert.False(JsonDocument.Parse(body).RootElement.TryGetProperty("checks", out _), body);
            Assert.DoesNotContain("akka.tcp://", body);
        }
        var detailed = await (await Get(stranger, "/health/ready", NodeHealthSpecs.ManagementToken)).Content.ReadAsStringAsync();
        Assert.True(JsonDocument.Parse(detailed).RootElement.GetProperty("checks").TryGetProperty("postgres", out _), detailed);
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }
}
