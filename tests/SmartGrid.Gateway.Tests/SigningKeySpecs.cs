using System.Net;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SmartGrid.Gateway.Auth;

namespace SmartGrid.Gateway.Tests;

/// <summary>No signing key in source; generated per installation or configured; rotation (issue 12, finding 3).</summary>
[Collection(GatewayCollection.Name)]
public sealed class SigningKeySpecs(GatewayFixture gateway)
{
    /// <summary>The key the repository used to ship: everyone has it.</summary>
    private const string PublishedDevelopmentKey = "smartgrid-development-signing-key-not-for-production-use";

    [Fact]
    public async Task Should_refuse_an_admin_token_forged_with_the_formerly_published_key()
    {
        var forged = Forge(PublishedDevelopmentKey, DateTimeOffset.UtcNow.AddMinutes(10));
        using var client = gateway.Client(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/admin/users")).StatusCode);
        // The same claims signed with the installation's key pass: the refusal is the key's.
        using var genuine = gateway.Client(Forge(gateway.SigningKey, DateTimeOffset.UtcNow.AddMinutes(10)));
        Assert.Equal(HttpStatusCode.OK, (await genuine.GetAsync("/api/v1/admin/users")).StatusCode);
    }

    [Theory]
    [InlineData(PublishedDevelopmentKey)]
    [InlineData("replace-with-32-or-more-random-bytes-for-hmac-sha256")]
    public void Should_refuse_to_start_with_a_published_key_in_any_environment(string key)
    {
        foreach (var development in new[] { true, false })
        {
            var e = Assert.Throws<InvalidOperationException>(() => new GatewayOptions { SigningKey = key }.Validate(development));
            Assert.Contains("SmartGrid:Gateway:SigningKey", e.Message);
        }
        Assert.Throws<InvalidOperationException>(() => new GatewayOptions { SigningKey = new string('k', 48), PreviousSigningKey = key }.Validate(false));
    }

    [Fact]
    public void Should_refuse_to_start_outside_development_without_a_key_or_with_a_short_one()
    {
        var missing = Assert.Throws<InvalidOperationException>(() => new GatewayOptions().Validate(isDevelopment: false));
        Assert.Contains("SmartGrid:Gateway:SigningKey is required", missing.Message);
        Assert.Throws<InvalidOperationException>(() => SigningKeys.Load(new GatewayOptions(), isDevelopment: false, TimeProvider.System));
        Assert.Throws<InvalidOperationException>(() => new GatewayOptions { SigningKey = "too-short" }.Validate(isDevelopment: true));
        new GatewayOptions { SigningKey = new string('k', 48) }.Validate(isDevelopment: false);
    }

    [Fact]
    public void Should_generate_the_installations_key_once_readable_by_its_owner_only()
    {
        var dir = Path.Combine(Path.GetTempPath(), "smartgrid-key-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new GatewayOptions { SigningKeyFile = Path.Combine(dir, "gateway", "signing-key") }.Validate(isDevelopment: true);
            var first = SigningKeys.Load(options, isDevelopment: true, TimeProvider.System);
            var again = SigningKeys.Load(options, isDevelopment: true, TimeProvider.System);

            Assert.Equal(options.SigningKeyFile, first.GeneratedFile);
            Assert.Equal(first.Current.Key, again.Current.Key);
            Assert.Equal(32, Base64UrlEncoder.DecodeBytes(File.ReadAllText(options.SigningKeyFile)).Length);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(options.SigningKeyFile));
            var elsewhere = SigningKeys.Load(options with { SigningKeyFile = Path.Combine(dir, "other") }, isDevelopment: true, TimeProvider.System);
            Assert.NotEqual(first.Current.Key, elsewhere.Current.Key);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Should_accept_the_previous_key_only_for_tokens_issued_before_the_rotation()
    {
        var rotatedKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var issuedBefore = Forge(gateway.SigningKey, DateTimeOffset.UtcNow.AddMinutes(10));
        var node = await gateway.StartSecondGatewayAsync(gateway.Storage, settings: new Dictionary<string, string?>
        {
            ["SmartGrid:Gateway:SigningKey"] = rotatedKey,
            ["SmartGrid:Gateway:PreviousSigningKey"] = gateway.SigningKey,
        });

        using var old = gateway.Client(issuedBefore, node);
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync("/api/v1/admin/users")).StatusCode);
        using var current = gateway.Client(Forge(rotatedKey, DateTimeOffset.UtcNow.AddMinutes(10)), node);
        Assert.Equal(HttpStatusCode.OK, (await current.GetAsync("/api/v1/admin/users")).StatusCode);
        // Whoever still holds the old key cannot mint a token that outlives one lifetime after the rotation.
        using var minted = gateway.Client(Forge(gateway.SigningKey, DateTimeOffset.UtcNow.AddMinutes(20)), node);
        Assert.Equal(HttpStatusCode.Unauthorized, (await minted.GetAsync("/api/v1/admin/users")).StatusCode);
    }

    /// <summary>An ADMIN token for the seeded admin, with every claim the gateway issues, signed with <paramref name="key"/>.</summary>
    private string Forge(string key, DateTimeOffset expires)
    {
        using var admin = gateway.Storage.DataSource.CreateCommand("SELECT id FROM users WHERE email = 'admin@smartgrid.local'");
        var id = (Guid)admin.ExecuteScalar()!;
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "smartgrid-gateway",
            Audience = "smartgrid-api",
            IssuedAt = now,
            NotBefore = now,
            Expires = expires.UtcDateTime,
            Subject = new ClaimsIdentity(
            [
                new Claim("sub", id.ToString()), new Claim("role", "ADMIN"), new Claim("jti", Guid.NewGuid().ToString("N")),
                new Claim("sid", Guid.NewGuid().ToString()), new Claim("email", "admin@smartgrid.local"),
            ]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
    }
}
