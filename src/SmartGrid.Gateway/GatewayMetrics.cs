using System.Diagnostics.Metrics;

namespace SmartGrid.Gateway;

/// <summary>The gateway's security instruments (Meter <see cref="MeterName"/>, exported as <c>smartgrid_gateway_*</c>).</summary>
public static class GatewayMetrics
{
    public const string MeterName = "SmartGrid.Gateway";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Tags: scope (account_address | account).</summary>
    public static readonly Counter<long> LoginLockouts = Meter.CreateCounter<long>("auth.login_lockouts", "{lockout}",
        "Login attempts refused with 429 by the failed-login throttle");

    /// <summary>Tags: reason (logout | reuse_detected | role_changed | password_changed).</summary>
    public static readonly Counter<long> SessionsRevoked = Meter.CreateCounter<long>("auth.sessions_revoked", "{session}",
        "Sessions ended before their expiry (their access tokens are refused from then on)");

    /// <summary>Revocation checks answered by PostgreSQL because Redis failed or was slow.</summary>
    public static readonly Counter<long> RevocationFallbacks = Meter.CreateCounter<long>("auth.revocation_fallbacks", "{check}",
        "Session revocation checks that fell back to PostgreSQL");
}
