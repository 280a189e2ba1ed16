using System.Net;
using SmartGrid.Channels;
using SmartGrid.Services.Notifications;

namespace SmartGrid.Services.Tests.Notifications;

public sealed class WebhookTargetsSpecs
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.9.9.9")]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.254")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.100.100.200")]
    [InlineData("169.254.169.254")]
    [InlineData("192.0.0.192")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:7f00:1::")]
    public void Should_refuse_addresses_that_lead_back_inside(string address) =>
        Assert.NotNull(new WebhookTargets([]).Refusal(IPAddress.Parse(address), 443));

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::6810:84e5")]
    [InlineData("::ffff:8.8.8.8")]
    public void Should_permit_public_addresses(string address) =>
        Assert.Null(new WebhookTargets([]).Refusal(IPAddress.Parse(address), 443));

    [Fact]
    public void Should_open_only_the_allowed_address_network_and_port()
    {
        var targets = new WebhookTargets(["127.0.0.1:8080", "10.20.0.0/16", "[fd00::7]:443"]);
        Assert.Null(targets.Refusal(IPAddress.Parse("127.0.0.1"), 8080));
        Assert.Null(targets.Refusal(IPAddress.Parse("::ffff:127.0.0.1"), 8080));
        Assert.NotNull(targets.Refusal(IPAddress.Parse("127.0.0.1"), 8081));
        Assert.Null(targets.Refusal(IPAddress.Parse("10.20.3.4"), 9000));
        Assert.NotNull(targets.Refusal(IPAddress.Parse("10.21.3.4"), 9000));
        Assert.Null(targets.Refusal(IPAddress.Parse("fd00::7"), 443));
        Assert.NotNull(targets.Refusal(IPAddress.Parse("fd00::7"), 80));
        Assert.Throws<FormatException>(() => new WebhookTargets(["intranet.local:80"]));
    }

    [Theory]
    [InlineData("ftp://93.184.215.14/x", "http or https")]
    [InlineData("https://user:pw@93.184.215.14/x", "without credentials")]
    [InlineData("http://127.0.0.1:9110/cmd/cluster/leave", "loopback")]
    [InlineData("http://[::ffff:169.254.169.254]/latest/meta-data", "link-local")]
    [InlineData("http://localhost:3000/", "loopback")]
    [InlineData("http://0x7f000001/", "loopback")]
    [InlineData("http://no-such-host.invalid/", "cannot be resolved")]
    public async Task Should_explain_why_a_url_is_refused_when_saved(string url, string why) =>
        Assert.Contains(why, await new WebhookTargets([]).CheckAsync(url, CancellationToken.None));
}
