using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using SmartGrid.Gateway.Auth;

namespace SmartGrid.Gateway.Tests;

/// <summary>Failed logins slow the address that fails, not the account's owner (issue 12, finding 4).</summary>
[Collection(GatewayCollection.Name)]
public sealed class LockoutSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_let_the_owner_log_in_from_another_address_while_an_attacker_hammers()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        using var attacker = gateway.ClientFrom("127.0.0.2");
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
            answers.Add((await attacker.PostAsJsonAsync("/api/v1/auth/login", new { email, password = $"Guess-Number-{i:D4}" })).StatusCode);

        // The attacker's address got its free failures, then waits.
        Assert.Equal(GatewayFixture.FreeLoginFailures + 1, answers.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(20 - GatewayFixture.FreeLoginFailures - 1, answers.Count(s => s == HttpStatusCode.TooManyRequests));
        // Even the right password waits at the attacker's address ...
        var locked = await attacker.PostAsJsonAsync("/api/v1/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // ... while the owner, elsewhere, is not slowed at all.
        using var owner = gateway.ClientFrom("127.0.0.3");
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsJsonAsync("/api/v1/auth/login", new { email, password })).StatusCode);
    }

    [Fact]
    public async Task Should_double_the_wait_with_each_failure_up_to_the_cap_and_meter_the_refusals()
    {
        var options = new GatewayOptions { LoginFreeFailures = 5, LoginBaseDelay = TimeSpan.FromSeconds(1), LoginMaxDelay = TimeSpan.FromMinutes(15) };
        var lockout = new LoginLockout(null!, options, Microsoft.Extensions.Logging.Abstractions.NullLogger<LoginLockout>.Instance);
        Assert.Null(lockout.DelayAfter(5));
        Assert.Equal(
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900],
            Enumerable.Range(6, 12).Select(n => lockout.DelayAfter(n)!.Value.TotalSeconds));

        long refusals = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GatewayMetrics.MeterName && instrument.Name == "auth.login_lockouts")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref refusals, value));
        listener.Start();
        var (email, _, _) = await gateway.NewVerifiedUserAsync();
        using var client = gateway.ClientFrom("127.0.0.4");
        for (var i = 0; i <= GatewayFixture.FreeLoginFailures + 2; i++)
            await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "Not-The-Password-1" });
        Assert.True(Interlocked.Read(ref refusals) >= 2);
    }
}
