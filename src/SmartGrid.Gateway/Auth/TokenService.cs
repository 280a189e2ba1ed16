using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SmartGrid.Gateway.Auth;

public sealed record AccessToken(string Token, string TokenId, DateTimeOffset ExpiresAt);

/// <summary>
/// Issues the short-lived HS256 access tokens (sub, role, jti, sid, operator regions) and the
/// opaque refresh tokens, and derives the digests under which refresh tokens and OTP codes are
/// stored.
/// </summary>
public sealed class TokenService(GatewayOptions options, SigningKeys keys, TimeProvider time)
{
    private readonly SigningCredentials _credentials = new(keys.Current, SecurityAlgorithms.HmacSha256);
    private readonly JsonWebTokenHandler _handler = new();

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
        IssuerSigningKeys = keys.ValidationKeys,
        // Tokens from before kid was set carry none: try every key.
        TryAllIssuerSigningKeys = true,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = options.ClockSkew,
        NameClaimType = GatewayClaims.Subject,
        RoleClaimType = GatewayClaims.Role,
    };

    public AccessToken CreateAccessToken(UserRecord user, Guid sessionFamily)
    {
        var now = time.GetUtcNow();
        var expires = now + options.AccessTokenLifetime;
        var jti = Guid.NewGuid().ToString("N");
        var claims = new List<Claim>
        {
            new(GatewayClaims.Subject, user.Id.ToString()),
            new(GatewayClaims.Role, user.Role),
            new(GatewayClaims.TokenId, jti),
            new(GatewayClaims.Session, sessionFamily.ToString()),
            new(GatewayClaims.Email, user.Email),
        };
        claims.AddRange(user.OperatorRegions.Select(r => new Claim(GatewayClaims.Region, r)));
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Subject = new ClaimsIdentity(claims),
            SigningCredentials = _credentials,
        });
        // exp has whole-second precision; report what the token says.
        return new AccessToken(token, jti, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

    /// <summary>
    /// Refuses a token signed with the rotation's previous key unless it expires within one
    /// token lifetime of this node's start (only tokens issued before the rotation qualify).
    /// </summary>
    public bool IsAcceptedSigningKey(SecurityToken token) =>
        keys.Previous is null || token.SigningKey is not SymmetricSecurityKey used || used.KeyId != keys.Previous.KeyId
        || token.ValidTo <= keys.PreviousAcceptedUntil.UtcDateTime;

    /// <summary>256 random bits, base64url; only its digest is stored.</summary>
    public static string NewRefreshToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    public static byte[] HashRefreshToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static string NewOtpCode() => RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Keyed and bound to the user, so a leaked table does not reveal codes by a 10^6 dictionary alone.</summary>
    public byte[] HashOtp(Guid userId, string boundCode) =>
        HMACSHA256.HashData(keys.OtpKey, Encoding.UTF8.GetBytes($"{userId:N}:{boundCode}"));
}
