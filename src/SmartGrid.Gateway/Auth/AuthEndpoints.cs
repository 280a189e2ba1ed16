using System.Net.Mail;
using System.Text.RegularExpressions;
using SmartGrid.Gateway.Http;

namespace SmartGrid.Gateway.Auth;

/// <summary>
/// <c>/api/v1/auth</c>: register, verify-otp, resend-otp, login, refresh, logout. The anonymous
/// routes are limited per IP in Redis, failed logins by <see cref="LoginLockout"/>; every other
/// route is rate-limited per user by <see cref="RateLimitFilter"/>.
/// </summary>
internal static partial class AuthEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("auth");
        auth.MapPost("/register", RegisterAsync).WithName("auth.register").AllowAnonymous().Produces<VerificationPending>(StatusCodes.Status202Accepted)
            .WithSummary("Create an account; a 6-digit code is sent to the email (the same answer for a taken address)")
            .Body("""{"email":"name@example.com","phone":"+919812345678","password":"Correct-Horse-42"}""");
        auth.MapPost("/verify-otp", VerifyOtpAsync).WithName("auth.verify-otp").AllowAnonymous().Produces<VerifiedAccount>()
            .WithSummary("Verify the email with the code").Body("""{"email":"name@example.com","code":"123456"}""");
        auth.MapPost("/resend-otp", ResendOtpAsync).WithName("auth.resend-otp").AllowAnonymous().Produces<VerificationPending>(StatusCodes.Status202Accepted)
            .WithSummary("Send a new code to an unverified account").Body("""{"email":"name@example.com"}""");
        auth.MapPost("/login", LoginAsync).WithName("auth.login").AllowAnonymous().Produces<TokenPair>()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Access token (short-lived JWT) and refresh token").Body("""{"email":"user@smartgrid.local","password":"SmartGrid-Demo-2025"}""");
        auth.MapPost("/refresh", RefreshAsync).WithName("auth.refresh").AllowAnonymous().Produces<TokenPair>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .WithSummary("Exchange a refresh token for new tokens (the old one stops working)").Body("""{"refresh_token":"…"}""");
        auth.MapPost("/password", ChangePasswordAsync).WithName("auth.password").RequireAuthorization().AddEndpointFilter<RateLimitFilter>()
            .Produces(StatusCodes.Status204NoContent)
            .WithSummary("Change the password: every session of the account ends (log in again)")
            .Body("""{"current_password":"Correct-Horse-42","new_password":"violet tractor under lemons"}""");
        auth.MapPost("/logout", LogoutAsync).WithName("auth.logout").RequireAuthorization().AddEndpointFilter<RateLimitFilter>()
            .Produces(StatusCodes.Status204NoContent)
            .WithSummary("End the session: its refresh token and every access token issued in it stop working");
    }

    /// <summary>
    /// Answers 202 with the same body whether the address is new, pending or taken (nothing tells
    /// an address's owner apart): a new or unverified account gets a code, an existing one a
    /// notice ("someone tried to register with your address").
    /// </summary>
    private static Task<IResult> RegisterAsync(HttpContext context, GatewayOptions options, AccountStore accounts,
        OneTimeCodes codes, TimeProvider time, LoginThrottle throttle) =>
        ThrottledEmailBodyAsync(context, options, throttle, "auth.register", async (body, email) =>
        {
            var phone = body.String("phone", required: false, maxLength: 16);
            var password = body.String("password", required: true, maxLength: 256);
            if (phone is not null && !PhonePattern().IsMatch(phone))
                body.Error("phone", "must be E.164, e.g. +919812345678");
            if (password is not null)
            {
                foreach (var problem in PasswordPolicy.Check(password, email))
                    body.Error("password", problem);
            }
            if (body.HasErrors)
                return body.Problem();

            var ct = context.RequestAborted;
            // Hashed for every request, so a taken address does not answer faster.
            var hash = PasswordPolicy.Hash(password!);
            var id = await accounts.CreateUserAsync(email!, phone, hash, Roles.User, [], emailVerified: false, ct);
            if (id is null && await accounts.FindByEmailAsync(email!, ct) is { } existing)
            {
                if (await accounts.ReplaceUnverifiedPasswordAsync(existing.Id, hash, phone, ct))
                    id = existing.Id;
                else
                    await codes.SendAsync(new AccountMessage(existing.Id, "email", existing.Email, MessagePurpose.RegistrationAttempt), ct);
            }
            if (id is not null)
                await codes.IssueAsync(id.Value, "email", email!, MessagePurpose.EmailVerification, ct);
            return CodeSent(email!, time.GetUtcNow() + options.OtpLifetime);
        });

    /// <summary>One 400 for a wrong, expired, used-up or never-sent code, and for an unknown or verified account: it tells nothing about the account.</summary>
    private static Task<IResult> VerifyOtpAsync(HttpContext context, GatewayOptions options, AccountStore accounts,
        OneTimeCodes codes, LoginThrottle throttle) =>
        ThrottledEmailBodyAsync(context, options, throttle, "auth.verify-otp", async (body, email) =>
        {
            var code = ReadCode(body);
            if (body.HasErrors)
                return body.Problem();

            var ct = context.RequestAborted;
            var user = await accounts.FindByEmailAsync(email!, ct);
            var outcome = user is null
                ? OtpOutcome.NoCode
                : (await codes.VerifyAsync(user.Id, user.Email, MessagePurpose.EmailVerification, code!, OtpEffects.VerifyEmail, ct)).Outcome;
            return outcome == OtpOutcome.Verified
                ? GatewayJson.Ok(new VerifiedAccount(user!.Id, user.Email, EmailVerified: true))
                : InvalidCode("/api/v1/auth/resend-otp");
        });

    private static Task<IResult> ResendOtpAsync(HttpContext context, GatewayOptions options, AccountStore accounts,
        OneTimeCodes codes, TimeProvider time, LoginThrottle throttle) =>
        ThrottledEmailBodyAsync(context, options, throttle, "auth.resend-otp", async (body, email) =>
        {
            if (body.HasErrors)
                return body.Problem();
            var user = await accounts.FindByEmailAsync(email!, context.RequestAborted);
            if (user is { EmailVerified: false })
                await codes.IssueAsync(user.Id, "email", user.Email, MessagePurpose.EmailVerification, context.RequestAborted);
            return CodeSent(email!, time.GetUtcNow() + options.OtpLifetime);
        });

    /// <summary>
    /// The opening of an anonymous route that reads an email: its per-address throttle first (so a flood costs no body
    /// parsing), then the JSON body (<see cref="JsonBody.HandleAsync(HttpContext, int, Func{JsonBody, Task{IResult}})"/>)
    /// and its email, checked (a bad one is an error of the body, so <paramref name="handle"/> gets null).
    /// </summary>
    private static async Task<IResult> ThrottledEmailBodyAsync(HttpContext context, GatewayOptions options, LoginThrottle throttle,
        string route, Func<JsonBody, string?, Task<IResult>> handle) =>
        await throttle.AnonymousHitAsync(context, route) is { } limited
            ? limited
            : await JsonBody.HandleAsync(context, options.MaxBodyBytes, body => handle(body, ReadEmail(body)));

    /// <summary>The one answer of register and resend-otp.</summary>
    private static IResult CodeSent(string email, DateTimeOffset expiresAt) => Results.Json(new VerificationPending(email, "verification_pending",
        "If this address can be verified, a 6-digit code was sent to it; send it to POST /api/v1/auth/verify-otp.", expiresAt),
        GatewayJson.Options, statusCode: StatusCodes.Status202Accepted);

    internal static string? ReadCode(JsonBody body)
    {
        var code = body.String("code", required: true, maxLength: 6);
        if (code is not null && !OtpPattern().IsMatch(code))
            body.Error("code", "must be 6 digits");
        return code;
    }

    internal static IResult InvalidCode(string resendAt) =>
        Problems.Field("code", $"is wrong, expired or used up; ask for a new one ({resendAt})", "Invalid code");

    private static Task<IResult> LoginAsync(HttpContext context, GatewayOptions options, AccountStore accounts,
        TokenService tokens, TimeProvider time, LoginLockout lockout, RedisGuard redis) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var email = ReadEmail(body);
            var password = body.String("password", required: true, maxLength: 256);
            if (body.HasErrors)
                return body.Problem();

            var ip = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (await lockout.RetryAfterAsync(email!, ip) is { } retryAfter)
                return Problems.TooManyRequests(retryAfter, "Too many failed logins for this account from this address; try again later.");

            var ct = context.RequestAborted;
            var user = await accounts.FindByEmailAsync(email!, ct);
            if (user is null)
                PasswordPolicy.VerifyAgainstDummy(password!);
            if (user is null || !PasswordPolicy.Verify(password!, user.PasswordHash))
            {
                await lockout.RecordFailureAsync(email!, ip);
                return Problems.Unauthorized("Invalid email or password.");
            }
            if (user.DisabledAt is not null)
                return Problems.Forbidden("This account is disabled; ask an administrator.");
            if (!user.EmailVerified)
                return Problems.Forbidden("The email address is not verified; verify it with the code sent at registration (/api/v1/auth/verify-otp).");

            await lockout.RecordSuccessAsync(email!, ip);
            var refresh = TokenService.NewRefreshToken();
            var refreshExpires = time.GetUtcNow() + options.RefreshTokenLifetime;
            var session = await accounts.CreateSessionAsync(user.Id, TokenService.HashRefreshToken(refresh), refreshExpires,
                context.Request.Headers.UserAgent.ToString(), ip, ct);
            await TryAsync(redis, () => redis.PutSessionAsync(session, user.Id, user.Role, options.RefreshTokenLifetime));
            return Answer(context, TokenResponse(tokens.CreateAccessToken(user, session), refresh, refreshExpires, user, time));
        });

    private static async Task<IResult> RefreshAsync(HttpContext context, GatewayOptions options, AccountStore accounts,
        TokenService tokens, TimeProvider time, RedisGuard redis, LoginThrottle throttle, SessionRevocations revocations, ILoggerFactory logs)
    {
        if (await throttle.AnonymousHitAsync(context, "auth.refresh") is { } limited)
            return limited;
        string? presented;
        if (RefreshCookie.Requested(context))
        {
            presented = RefreshCookie.Read(context);
            if (presented is null)
                return Problems.Unauthorized("No refresh cookie: log in.");
        }
        else
        {
            var (body, failure) = await JsonBody.ReadAsync(context, options.MaxBodyBytes);
            if (failure is not null)
                return failure;
            using var _ = body;
            presented = body!.String("refresh_token", required: true, maxLength: 128);
            if (body.HasErrors)
                return body.Problem();
        }

        var ct = context.RequestAborted;
        var now = time.GetUtcNow();
        var next = TokenService.NewRefreshToken();
        var nextExpires = now + options.RefreshTokenLifetime;
        var result = await accounts.RotateAsync(TokenService.HashRefreshToken(presented!), TokenService.HashRefreshToken(next), nextExpires, now, ct);
        if (result.Outcome != RefreshOutcome.Rotated && RefreshCookie.Requested(context))
            RefreshCookie.Clear(context);
        switch (result.Outcome)
        {
            case RefreshOutcome.Rotated:
                var user = await accounts.FindByIdAsync(result.UserId, ct);
                if (user is null || user.DisabledAt is not null)
                    return Problems.Unauthorized("The account no longer exists or is disabled.");
                await TryAsync(redis, () => redis.PutSessionAsync(result.FamilyId, user.Id, user.Role, options.RefreshTokenLifetime));
                return Answer(context, TokenResponse(tokens.CreateAccessToken(user, result.FamilyId), next, nextExpires, user, time));
            case RefreshOutcome.ReuseDetected:
                logs.CreateLogger("SmartGrid.Gateway.Auth").RefreshTokenReused(result.FamilyId, result.UserId);
                await revocations.RevokedAsync(result.FamilyId, RevokeReason.ReuseDetected);
                await TryAsync(redis, () => redis.DeleteSessionAsync(result.FamilyId));
                return Problems.Unauthorized("This refresh token was already used; the session has been revoked. Log in again.");
            case RefreshOutcome.Expired:
                return Problems.Unauthorized("The refresh token has expired. Log in again.");
            case RefreshOutcome.Revoked:
                return Problems.Unauthorized("The session was revoked. Log in again.");
            default:
                return Problems.Unauthorized("Unknown refresh token.");
        }
    }

    private static Task<IResult> ChangePasswordAsync(HttpContext context, GatewayOptions options, AccountStore accounts,
        SessionRevocations revocations, TimeProvider time) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var current = body.String("current_password", required: true, maxLength: 256);
            var next = body.String("new_password", required: true, maxLength: 256);
            var ct = context.RequestAborted;
            var user = await accounts.FindByIdAsync(CurrentUser.From(context.User).Id, ct);
            if (user is null)
                return Problems.Unauthorized("The account no longer exists.");
            if (current is not null && !PasswordPolicy.Verify(current, user.PasswordHash))
                body.Error("current_password", "is wrong");
            if (next is not null)
            {
                foreach (var problem in PasswordPolicy.Check(next, user.Email))
                    body.Error("new_password", problem);
            }
            if (body.HasErrors)
                return body.Problem();

            await accounts.SetPasswordAsync(user.Id, PasswordPolicy.Hash(next!), ct);
            // Whoever knew the old password may hold a session: none survives.
            await revocations.RevokeUserAsync(user.Id, RevokeReason.PasswordChanged, time.GetUtcNow(), ct);
            return Results.NoContent();
        });

    private static async Task<IResult> LogoutAsync(HttpContext context, AccountStore accounts, TimeProvider time, RedisGuard redis,
        SessionRevocations revocations, ILoggerFactory logs)
    {
        var user = CurrentUser.From(context.User);
        await accounts.RevokeFamilyAsync(user.SessionId, RevokeReason.Logout, time.GetUtcNow(), context.RequestAborted);
        await revocations.RevokedAsync(user.SessionId, RevokeReason.Logout);
        await TryAsync(redis, () => redis.DeleteSessionAsync(user.SessionId), logs.CreateLogger("SmartGrid.Gateway.Auth"));
        RefreshCookie.Clear(context);
        return Results.NoContent();
    }

    /// <summary>
    /// The JSON body flow answers both tokens; the console (<see cref="RefreshCookie.Header"/>) gets the refresh token
    /// only as its cookie, so no script of the page ever holds it.
    /// </summary>
    private static IResult Answer(HttpContext context, TokenPair pair)
    {
        if (!RefreshCookie.Requested(context))
            return GatewayJson.Ok(pair);
        RefreshCookie.Set(context, pair.RefreshToken, pair.RefreshExpiresAt);
        return GatewayJson.Ok(new ConsoleSession(pair.AccessToken, pair.TokenType, pair.ExpiresIn, pair.ExpiresAt, pair.RefreshExpiresAt, pair.User));
    }

    private static TokenPair TokenResponse(AccessToken access, string refresh, DateTimeOffset refreshExpires, UserRecord user, TimeProvider time) =>
        new(access.Token, "Bearer", (int)Math.Max(0, (access.ExpiresAt - time.GetUtcNow()).TotalSeconds), access.ExpiresAt, refresh,
            refreshExpires, new TokenUser(user.Id, user.Email, user.Role, user.OperatorRegions));

    /// <summary>Emails are stored lower-cased; the address must be a bare address (no display name).</summary>
    internal static string? ReadEmail(JsonBody body, string field = "email", bool required = true)
    {
        var email = body.String(field, required, maxLength: 254)?.Trim();
        if (email is null)
            return null;
        if (!MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !email.Contains('.', StringComparison.Ordinal))
        {
            body.Error(field, "must be an email address such as name@example.com");
            return null;
        }
        return email.ToLowerInvariant();
    }

    /// <summary>Redis is a cache here: its failure is logged (and a timeout starts the guard's skip), the PostgreSQL state stands.</summary>
    private static async Task TryAsync(RedisGuard redis, Func<Task> action, ILogger? log = null)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            redis.Failed(e);
            log?.RedisUnavailableForAuth(e);
        }
    }

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$", RegexOptions.CultureInvariant)]
    internal static partial Regex PhonePattern();

    [GeneratedRegex(@"^[0-9]{6}$", RegexOptions.CultureInvariant)]
    private static partial Regex OtpPattern();
}

/// <summary>The answer of login and refresh.</summary>
public sealed record TokenPair(string AccessToken, string TokenType, int ExpiresIn, DateTimeOffset ExpiresAt, string RefreshToken,
    DateTimeOffset RefreshExpiresAt, TokenUser User);

/// <summary>Login and refresh as the console gets them: the refresh token went into its HttpOnly cookie.</summary>
public sealed record ConsoleSession(string AccessToken, string TokenType, int ExpiresIn, DateTimeOffset ExpiresAt, DateTimeOffset RefreshExpiresAt,
    TokenUser User);

public sealed record TokenUser(Guid Id, string Email, string Role, string[] OperatorRegions);

/// <summary>The one answer of register and resend-otp, whatever the address.</summary>
public sealed record VerificationPending(string Email, string Status, string Detail, DateTimeOffset OtpExpiresAt);

public sealed record VerifiedAccount(Guid UserId, string Email, bool EmailVerified);
