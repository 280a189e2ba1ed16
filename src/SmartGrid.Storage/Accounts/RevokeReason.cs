using System.Text.Json.Serialization;

namespace SmartGrid.Storage.Accounts;

/// <summary>
/// Why a refresh token stopped working: sessions.revoked_reason holds its wire name (<see cref="Domain.WireName"/>), as does the
/// reason tag of the revoked-sessions metric.
/// </summary>
public enum RevokeReason
{
    /// <summary>Replaced by the next token of its family at a refresh: the session itself goes on.</summary>
    [JsonStringEnumMemberName("rotated")] Rotated = 1,
    [JsonStringEnumMemberName("logout")] Logout = 2,

    /// <summary>A rotated token presented again: the whole family is ended, as the token may be stolen.</summary>
    [JsonStringEnumMemberName("reuse_detected")] ReuseDetected = 3,
    [JsonStringEnumMemberName("role_changed")] RoleChanged = 4,
    [JsonStringEnumMemberName("password_changed")] PasswordChanged = 5,
    [JsonStringEnumMemberName("disabled")] Disabled = 6,
}

public static class RevokeReasonExtensions
{
    public static string ToWireName(this RevokeReason reason) => Domain.WireName.Of(reason);
}
