using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AuthSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_register_verify_login_and_call_a_protected_route()
    {
        var email = $"flow{Guid.NewGuid():N}@example.com";
        using var anonymous = gateway.Client();
        var register = await anonymous.PostAsJsonAsync("/api/v1/auth/register", new { email, phone = "+919812345678", password = "Correct-Horse-42" });
        Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);

        // Not verified yet: the password is right but login is refused.
        var early = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "Correct-Horse-42" });
        Assert.Equal(HttpStatusCode.Forbidden, early.StatusCode);

        var verify = await anonymous.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code = gateway.Otp.LastCodeFor(email) });
        Assert.Equal(HttpStatusCode.OK, verify.StatusCode);

        var tokens = await gateway.LoginAsync(email, "Correct-Horse-42");
        using var client = gateway.Client(tokens.Access);
        // A new user has no meter yet: the route is reached (authorised) and says so.
        var latest = await client.GetAsync("/api/v1/telemetry/user/latest");
        Assert.Equal(HttpStatusCode.NotFound, latest.StatusCode);
        Assert.Equal("application/problem+json", latest.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Should_store_only_hashes_of_passwords_and_codes()
    {
        var (email, password, id) = await gateway.NewVerifiedUserAsync();
        await using var cmd = gateway.Storage.DataSource.CreateCommand("SELECT password_hash FROM users WHERE id = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = id });
        var hash = (string)(await cmd.ExecuteScalarAsync())!;
        Assert.DoesNotContain(password, hash);
        Assert.StartsWith("$2", hash);
        Assert.Contains("@", email);
    }

    [Fact]
    public async Task Should_refuse_a_wrong_password_with_401()
    {
        var (email, _, _) = await gateway.NewVerifiedUserAsync();
        using var client = gateway.Client();
        var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { email, password = "Wrong-Password-99" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var unknown = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = "nobody@example.com", password = "Wrong-Password-99" });
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
    }

    [Fact]
    public async Task Should_refuse_an_expired_otp()
    {
        var email = $"exp{Guid.NewGuid():N}@example.com";
        using var client = gateway.Client();
        Assert.Equal(HttpStatusCode.Accepted,
            (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "Correct-Horse-42" })).StatusCode);
        await gateway.ExecuteAsync(
            "UPDATE otp_verifications SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM users WHERE email = $1)", email);

        var verify = await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code = gateway.Otp.LastCodeFor(email) });
        Assert.Equal(HttpStatusCode.BadRequest, verify.StatusCode);
        Assert.Contains("ask for a new one", await ErrorOf(verify, "code"));

        // A new code works.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/v1/auth/resend-otp", new { email })).StatusCode);
        Assert.Equal(HttpStatusCode.OK,
            (await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code = gateway.Otp.LastCodeFor(email) })).StatusCode);
    }

    [Fact]
    public async Task Should_lock_the_otp_after_the_attempt_limit()
    {
        var email = $"att{Guid.NewGuid():N}@example.com";
        using var client = gateway.Client();
        await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "Correct-Horse-42" });
        var code = gateway.Otp.LastCodeFor(email);
        var wrong = code == "000000" ? "111111" : "000000";
        for (var i = 0; i < 3; i++)
        {
            var attempt = await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code = wrong });
            Assert.Equal(HttpStatusCode.BadRequest, attempt.StatusCode);
            Assert.Contains("wrong", await ErrorOf(attempt, "code"));
        }
        // The right code, once the attempts are spent, is refused like any other.
        var right = await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code });
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Contains("ask for a new one", await ErrorOf(right, "code"));
    }

    [Fact]
    public async Task Should_rotate_refresh_tokens_and_revoke_the_session_on_reuse()
    {
        var (email, password, _) = await gateway.NewVerifiedUserAsync();
        var first = await gateway.LoginAsync(email, password);
        using var client = gateway.Client();

        var rotated = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first.Refresh });
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var second = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(first.Refresh, second);

        // The old token again: reuse. It is refused and the whole session dies, also the newest token.
        var reuse = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first.Refresh });
        Assert.Equal(HttpStatusCode.Unauthorized, reuse.StatusCode);
        var afterReuse = await client.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = second });
        Assert.Equal(HttpStatusCode.Unauthorized, afterReuse.StatusCode);
    }

    [Fact]
    public async Task Should_name_each_invalid_field_when_registering()
    {
        using var client = gateway.Client();
        var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = "not-an-email", phone = "12", password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("phone", out _));
        Assert.Contains("at least 12", errors.GetProperty("password").ToString());
    }

    [Fact]
    public async Task Should_answer_malformed_json_and_wrong_types_with_problem_details()
    {
        using var client = gateway.Client();
        var malformed = await client.PostAsync("/api/v1/auth/login", new StringContent("{\"email\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("malformed JSON", await ErrorOf(malformed, "$"));

        var wrongType = await client.PostAsJsonAsync("/api/v1/auth/login", new { email = 5, password = true });
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Contains("must be a string", await ErrorOf(wrongType, "email"));
    }

    internal static async Task<string> ErrorOf(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("errors").GetProperty(field).ToString();
    }
}
