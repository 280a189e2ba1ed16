using SmartGrid.Domain;
using SmartGrid.Storage.Accounts;

namespace SmartGrid.Storage.Tests;

/// <summary>sessions.revoked_reason keeps its text; a rotated token is told from an ended session by it.</summary>
public sealed class RevokeReasonSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Should_name_every_reason_as_the_sessions_table_holds_it()
    {
        Assert.Equal(["rotated", "logout", "reuse_detected", "role_changed", "password_changed", "disabled"],
            Enum.GetValues<RevokeReason>().Select(r => r.ToWireName()));
        Assert.All(Enum.GetValues<RevokeReason>(), r => Assert.Equal(r, WireName.Parse<RevokeReason>(r.ToWireName())));
        Assert.Contains("'expired' is unknown", Assert.Throws<ArgumentOutOfRangeException>(() => WireName.Parse<RevokeReason>("expired")).Message);
    }

    [Fact]
    public async Task Should_store_the_reason_as_text_and_end_the_family_when_a_rotated_token_comes_back()
    {
        var accounts = new AccountStore(db.Storage.DataSource);
        var user = (await accounts.CreateUserAsync($"revoke-{Guid.NewGuid():N}@grid.test", null, "x", "USER", [], true, default))!.Value;
        byte[] first = [1], second = [2], third = [3];
        var family = await accounts.CreateSessionAsync(user, first, Now.AddDays(1), null, null, default);

        Assert.Equal(RefreshOutcome.Rotated, (await accounts.RotateAsync(first, second, Now.AddDays(1), Now, default)).Outcome);
        Assert.False(await accounts.IsSessionRevokedAsync(family, default));
        Assert.Equal(RefreshOutcome.ReuseDetected, (await accounts.RotateAsync(first, third, Now.AddDays(1), Now, default)).Outcome);

        Assert.True(await accounts.IsSessionRevokedAsync(family, default));
        Assert.Equal("reuse_detected,rotated", await db.ScalarAsync<string>(
            $"SELECT string_agg(revoked_reason, ',' ORDER BY revoked_reason) FROM sessions WHERE family_id = '{family}'"));
    }
}
