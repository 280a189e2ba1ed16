using System.Net;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class RateLimitSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_answer_429_with_retry_after_past_the_per_user_limit()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        using var client = gateway.Client((await gateway.LoginAsync(email, password)).Access);
        for (var i = 0; i < GatewayFixture.RateLimit; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/telemetry/user/latest")).StatusCode);

        var limited = await client.GetAsync("/api/v1/telemetry/user/latest");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(limited.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);

        // Per endpoint: another route of the same user is still open.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/telemetry/user/history")).StatusCode);
        var key = $"{gateway.RedisPrefix}ratelimit:*:telemetry.user.latest";
        Assert.NotEmpty(gateway.Redis.GetServer(gateway.Redis.GetEndPoints()[0]).Keys(pattern: key));
    }
}
