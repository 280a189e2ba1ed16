using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SmartGrid.Gateway.Auth;

namespace SmartGrid.Gateway.Tests;

/// <summary>Weak passwords, account enumeration and codes in logs (issue 12, finding 5).</summary>
[Collection(GatewayCollection.Name)]
public sealed class AccountSpecs(GatewayFixture gateway)
{
    [Theory]
    [InlineData("Password1234", "common")]
    [InlineData("Aaaaaaaaaaa1", "repeated or sequential")]
    [InlineData("qwertyuiop123", "common")]
    [InlineData("abcdefgh1234", "repeated or sequential")]
    [InlineData("Short-1", "at least 12")]
    public async Task Should_refuse_a_weak_password_naming_the_field(string password, string why)
    {
        using var client = gateway.Client();
        var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = NewEmail(), password });
        Assert.Contains(why, await response.FieldErrorAsync("password"));
    }

    [Fact]
    public async Task Should_accept_a_long_password_without_composition_rules()
    {
        using var client = gateway.Client();
        var response = await client.PostAsJsonAsync("/api/v1/auth/register", new { email = NewEmail(), password = "violet tractor under lemons" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Should_answer_register_alike_for_new_pending_and_taken_addresses_and_tell_the_owner()
    {
        var (taken, password, _) = await gateway.NewVerifiedUserAsync();
        var pending = NewEmail();
        using var client = gateway.Client();

        var answers = new List<(HttpStatusCode, string)>();
        foreach (var email in new[] { NewEmail(), pending, pending, taken })
            answers.Add(await ShapeAsync(await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "Intruder-Chosen-77" })));
        Assert.Single(answers.Distinct());
        Assert.Equal(HttpStatusCode.Accepted, answers[0].Item1);

        // The owner hears of it; their account is unchanged: their password works, the intruder's does not.
        Assert.Contains(gateway.Otp.SentTo(taken), m => m.Purpose == MessagePurpose.RegistrationAttempt && m.Code is null);
        await gateway.LoginAsync(taken, password);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await client.PostAsJsonAsync("/api/v1/auth/login", new { email = taken, password = "Intruder-Chosen-77" })).StatusCode);
    }

    [Fact]
    public async Task Should_answer_verify_and_resend_alike_for_unknown_pending_and_verified_accounts()
    {
        var (verified, _, _) = await gateway.NewVerifiedUserAsync();
        var pending = NewEmail();
        using var client = gateway.Client();
        await client.PostAsJsonAsync("/api/v1/auth/register", new { email = pending, password = "Correct-Horse-42" });
        var wrong = gateway.Otp.LastCodeFor(pending) == "000000" ? "111111" : "000000";

        var verifies = new List<(HttpStatusCode, string)>();
        var resends = new List<(HttpStatusCode, string)>();
        foreach (var email in new[] { NewEmail(), pending, verified })
        {
            verifies.Add(await ShapeAsync(await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code = wrong })));
            resends.Add(await ShapeAsync(await client.PostAsJsonAsync("/api/v1/auth/resend-otp", new { email })));
        }
        Assert.Equal(HttpStatusCode.BadRequest, Assert.Single(verifies.Distinct()).Item1);
        Assert.Equal(HttpStatusCode.Accepted, Assert.Single(resends.Distinct()).Item1);
    }

    [Fact]
    public async Task Should_never_log_the_verification_code_and_drop_it_in_a_file_for_the_developer()
    {
        var drop = Path.Combine(Path.GetTempPath(), "smartgrid-mail-" + Guid.NewGuid().ToString("N"));
        var log = new CapturedLog();
        // The gateway's own messenger, as the development run has it.
        var node = await gateway.StartSecondGatewayAsync(gateway.Storage, settings: new Dictionary<string, string?>
        {
            ["SmartGrid:Gateway:DevelopmentMailDrop"] = drop,
        }, ownMessenger: true, log: log);
        try
        {
            var email = NewEmail();
            using var client = gateway.Client(baseAddress: node);
            Assert.Equal(HttpStatusCode.Accepted,
                (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "Correct-Horse-42" })).StatusCode);

            var file = Assert.Single(Directory.GetFiles(drop, $"*{email}*"));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            var code = System.Text.RegularExpressions.Regex.Match(await File.ReadAllTextAsync(file), @"\b[0-9]{6}\b").Value;
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code })).StatusCode);
            Assert.NotEmpty(log.Lines);
            Assert.DoesNotContain(log.Lines, line => line.Contains(code, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(drop, recursive: true);
        }
    }

    private static string NewEmail() => $"acct{Guid.NewGuid():N}@example.com";

    /// <summary>The status and the body's shape: its property names and every value but trace ids and the echoed email.</summary>
    private static async Task<(HttpStatusCode, string)> ShapeAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var shape = string.Join(",", body.EnumerateObject()
            .Where(p => p.Name is not ("traceId" or "trace_id" or "email" or "otp_expires_at"))
            .Select(p => $"{p.Name}={p.Value}"));
        var keys = string.Join(",", body.EnumerateObject().Select(p => p.Name));
        return (response.StatusCode, keys + "|" + shape);
    }
}
