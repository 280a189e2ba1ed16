using System.Security.Claims;

namespace SmartGrid.Gateway.Auth;

/// <summary>The three roles of the seed and the authorization policies built on them.</summary>
public static class Roles
{
    public const string User = "USER";
    public const string Operator = "OPERATOR";
    public const string Admin = "ADMIN";

    public static readonly IReadOnlyList<string> All = [User, Operator, Admin];

    /// <summary>A meter owner: the /user routes.</summary>
    public const string UserPolicy = "gateway.user";

    /// <summary>Operators and admins: grid and meter routes; an operator is further limited to their regions.</summary>
    public const string OperatorPolicy = "gateway.operator";

    public const string AdminPolicy = "gateway.admin";
}

/// <summary>Claim names of the gateway's access tokens (JWT registered names where one exists).</summary>
public static class GatewayClaims
{
    public const string Subject = "sub";
    public const string Role = "role";
    public const string TokenId = "jti";
    public const string Session = "sid";
    public const string Email = "email";
    public const string Region = "region";
}

/// <summary>The caller as the access token describes them.</summary>
public sealed record CurrentUser(Guid Id, string Role, IReadOnlyList<string> Regions, string TokenId, Guid SessionId, DateTimeOffset ExpiresAt)
{
    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>Admins see every region; operators the ones they operate.</summary>
    public bool MayOperate(string region) => IsAdmin || (Role == Roles.Operator && Regions.Contains(region, StringComparer.Ordinal));

    public static CurrentUser From(ClaimsPrincipal principal)
    {
        var expires = principal.FindFirstValue("exp") is { } exp && long.TryParse(exp, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.UtcNow;
        return new CurrentUser(
            Guid.Parse(principal.FindFirstValue(GatewayClaims.Subject)!),
            principal.FindFirstValue(GatewayClaims.Role)!,
            principal.FindAll(GatewayClaims.Region).Select(c => c.Value).ToArray(),
            principal.FindFirstValue(GatewayClaims.TokenId)!,
            Guid.Parse(principal.FindFirstValue(GatewayClaims.Session)!),
            expires);
    }
}
