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
}
