using System.Security.Cryptography;
using Npgsql;
using SmartGrid.Domain;

namespace SmartGrid.Storage.Accounts;

public sealed record UserRecord(
    Guid Id, string Email, string? Phone, string PasswordHash, string Role, string[] OperatorRegions, bool EmailVerified, DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt = null);

public enum OtpOutcome { Verified, NoCode, Expired, TooManyAttempts, Wrong }

public enum RefreshOutcome { Rotated, Unknown, Expired, Revoked, ReuseDetected }

/// <summary>What a verified code does ($1 = the user's id), run in the transaction that consumes it.</summary>
public static class OtpEffects
{
    public const string VerifyEmail = "UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1";
    public const string ConfirmEmail =
        "UPDATE notification_preferences SET email = pending_email, pending_email = NULL, updated_at = now() WHERE user_id = $1 AND pending_email IS NOT NULL";
    public const string ConfirmPhone =
        "UPDATE notification_preferences SET phone = pending_phone, pending_phone = NULL, updated_at = now() WHERE user_id = $1 AND pending_phone IS NOT NULL";
}

public sealed record RefreshResult(RefreshOutcome Outcome, Guid UserId = default, Guid FamilyId = default);

/// <summary>
/// The gateway's account tables in PostgreSQL: users, one-time codes and refresh-token sessions (whose
/// revocation also ends their access tokens). Every statement is parameterised; state changes that must not race
/// (OTP attempts, refresh rotation) run in a transaction with the row locked.
/// </summary>
public sealed class AccountStore(NpgsqlDataSource dataSource)
{
    private const string UserColumns = "id, email, phone, password_hash, role, operator_regions, email_verified, created_at, disabled_at";

    /// <summary>Creates the user; null when the email is taken.</summary>
    public async Task<Guid?> CreateUserAsync(string email, string? phone, string passwordHash, string role, string[] regions,
        bool emailVerified, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            """
            INSERT INTO users (id, email, phone, password_hash, role, operator_regions, email_verified)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT ((lower(email))) DO NOTHING
            """, id, email, Db.Text(phone), passwordHash, role, regions, emailVerified);
        return await cmd.ExecuteNonQueryAsync(ct) == 1 ? id : null;
    }

    public Task<UserRecord?> FindByEmailAsync(string email, CancellationToken ct) =>
        FindAsync($"SELECT {UserColumns} FROM users WHERE lower(email) = lower($1)", email, ct);

    public Task<UserRecord?> FindByIdAsync(Guid id, CancellationToken ct) =>
        FindAsync($"SELECT {UserColumns} FROM users WHERE id = $1", id, ct);

    /// <summary>A page of users ordered by creation, and the total count.</summary>
    public async Task<(IReadOnlyList<UserRecord> Items, long Total)> ListUsersAsync(int limit, int offset, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null, $"SELECT {UserColumns}, count(*) OVER () FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2");
        var (users, total) = await cmd.ReadPageAsync(limit, offset, ReadUser, ct);
        if (users.Count == 0 && offset > 0)
        {
            await using var count = Db.Command(conn, null, "SELECT count(*) FROM users");
            total = (long)(await count.ExecuteScalarAsync(ct))!;
        }
        return (users, total);
    }

    /// <summary>False when the user does not exist.</summary>
    public async Task<bool> SetRoleAsync(Guid id, string role, string[] regions, CancellationToken ct)
    {
        return await ExecuteAsync("UPDATE users SET role = $2, operator_regions = $3, updated_at = now() WHERE id = $1", ct, id, role, regions) == 1;
    }

    /// <summary>Stores a new code for the purpose; older unconsumed codes of the same purpose stop counting.</summary>
    public async Task CreateOtpAsync(Guid userId, string purpose, byte[] codeHash, DateTimeOffset expiresAt, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var batch = Db.Batch(conn, null,
            ("UPDATE otp_verifications SET consumed_at = now() WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL", [userId, purpose]),
            ("INSERT INTO otp_verifications (id, user_id, purpose, code_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
                [Guid.CreateVersion7(), userId, purpose, codeHash, expiresAt]));
        await batch.ExecuteNonQueryAsync(ct); // a batch runs in one implicit transaction
    }

    /// <summary>Disables (at <paramref name="now"/>) or enables the account; false when it does not exist.</summary>
    public async Task<bool> SetDisabledAsync(Guid id, bool disabled, DateTimeOffset now, CancellationToken ct)
    {
        return await ExecuteAsync("UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) END, updated_at = now() WHERE id = $1",
            ct, id, disabled, now) == 1;
    }

    public async Task SetPasswordAsync(Guid id, string passwordHash, CancellationToken ct)
    {
        await ExecuteAsync("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", ct, id, passwordHash);
    }

    /// <summary>
    /// A registration for an address whose account was never verified: the newest registrant's
    /// password replaces the old one (an unverified account belongs to nobody yet, so whoever
    /// pre-registered someone else's address gains nothing). False when the account is verified.
    /// </summary>
    public async Task<bool> ReplaceUnverifiedPasswordAsync(Guid id, string passwordHash, string? phone, CancellationToken ct)
    {
        return await ExecuteAsync("UPDATE users SET password_hash = $2, phone = $3, updated_at = now() WHERE id = $1 AND NOT email_verified",
            ct, id, passwordHash, Db.Text(phone)) == 1;
    }

    /// <summary>
    /// Checks a code against the user's newest unconsumed one of the purpose. A wrong code costs
    /// an attempt; once <paramref name="maxAttempts"/> are spent the code is dead. Success
    /// consumes the code and, in the same transaction, runs <paramref name="onVerified"/> ($1 = the
    /// user's id): marks the email verified, or makes a pending address the confirmed one.
    /// </summary>
    public async Task<(OtpOutcome Outcome, int AttemptsLeft)> VerifyOtpAsync(Guid userId, string purpose, byte[] codeHash,
        int maxAttempts, DateTimeOffset now, string onVerified, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid id;
        byte[] stored;
        DateTimeOffset expiresAt;
        int attempts;
        await using (var select = Db.Command(conn, tx,
            """
            SELECT id, code_hash, expires_at, attempts FROM otp_verifications
            WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL
            ORDER BY created_at DESC LIMIT 1 FOR UPDATE
            """, userId, purpose))
        {
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                return (OtpOutcome.NoCode, 0);
            id = reader.GetGuid(0);
            stored = reader.GetFieldValue<byte[]>(1);
            expiresAt = reader.GetFieldValue<DateTimeOffset>(2);
            attempts = reader.GetInt32(3);
        }

        if (expiresAt <= now)
            return (OtpOutcome.Expired, 0);
        if (attempts >= maxAttempts)
            return (OtpOutcome.TooManyAttempts, 0);

        if (!CryptographicOperations.FixedTimeEquals(stored, codeHash))
        {
            await using var fail = Db.Command(conn, tx, "UPDATE otp_verifications SET attempts = attempts + 1 WHERE id = $1", id);
            await fail.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return (OtpOutcome.Wrong, maxAttempts - attempts - 1);
        }

        await using (var consume = Db.Batch(conn, tx,
            ("UPDATE otp_verifications SET consumed_at = $2 WHERE id = $1", [id, now]),
            (onVerified, [userId])))
            await consume.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return (OtpOutcome.Verified, maxAttempts - attempts);
    }

    /// <summary>Starts a session family (login); the first row's id is the family id.</summary>
    public async Task<Guid> CreateSessionAsync(Guid userId, byte[] refreshHash, DateTimeOffset expiresAt, string? userAgent, string? ip,
        CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await ExecuteAsync(
            """
            INSERT INTO sessions (id, family_id, user_id, refresh_token_hash, expires_at, user_agent, ip_address)
            VALUES ($1, $1, $2, $3, $4, $5, $6)
            """, ct, id, userId, refreshHash, expiresAt, Db.Text(Limit(userAgent)), Db.Text(ip));
        return id;
    }

    /// <summary>
    /// Exchanges a refresh token for the next one of its family. A token that was already rotated
    /// means it leaked (or a client raced itself): the whole family is revoked.
    /// </summary>
    public async Task<RefreshResult> RotateAsync(byte[] presentedHash, byte[] nextHash, DateTimeOffset nextExpiresAt, DateTimeOffset now,
        CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        Guid id, family, user;
        DateTimeOffset expiresAt;
        bool revoked;
        RevokeReason? reason;
        string? userAgent, ip;
        await using (var select = Db.Command(conn, tx,
            """
            SELECT id, family_id, user_id, expires_at, revoked_at IS NOT NULL, revoked_reason, user_agent, ip_address
            FROM sessions WHERE refresh_token_hash = $1 FOR UPDATE
            """, presentedHash))
        {
            await using var reader = await select.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                return new RefreshResult(RefreshOutcome.Unknown);
            id = reader.GetGuid(0);
            family = reader.GetGuid(1);
            user = reader.GetGuid(2);
            expiresAt = reader.GetFieldValue<DateTimeOffset>(3);
            revoked = reader.GetBoolean(4);
            reason = reader.IsDBNull(5) ? null : WireName.Parse<RevokeReason>(reader.GetString(5));
            userAgent = reader.IsDBNull(6) ? null : reader.GetString(6);
            ip = reader.IsDBNull(7) ? null : reader.GetString(7);
        }

        if (revoked)
        {
            if (reason != RevokeReason.Rotated)
                return new RefreshResult(RefreshOutcome.Revoked, user, family);
            await RevokeFamilyAsync(conn, tx, family, RevokeReason.ReuseDetected, now, ct);
            await tx.CommitAsync(ct);
            return new RefreshResult(RefreshOutcome.ReuseDetected, user, family);
        }
        if (expiresAt <= now)
            return new RefreshResult(RefreshOutcome.Expired, user, family);

        await using (var rotate = Db.Batch(conn, tx,
            ("UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1", [id, now, RevokeReason.Rotated.ToWireName()]),
            ("""
             INSERT INTO sessions (id, family_id, user_id, refresh_token_hash, created_at, expires_at, rotated_from, user_agent, ip_address)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             """, [Guid.CreateVersion7(), family, user, nextHash, now, nextExpiresAt, id, Db.Text(userAgent), Db.Text(ip)])))
            await rotate.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return new RefreshResult(RefreshOutcome.Rotated, user, family);
    }

    /// <summary>Revokes every live refresh token of a session family (logout).</summary>
    public async Task RevokeFamilyAsync(Guid familyId, RevokeReason reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await RevokeFamilyAsync(conn, null, familyId, reason, now, ct);
    }

    /// <summary>
    /// Sessions ended (for another reason than rotation) after <paramref name="since"/>, oldest first, with when:
    /// what the gateway's RevocationMirror copies into Redis.
    /// </summary>
    public async Task<IReadOnlyList<(Guid Session, DateTimeOffset RevokedAt)>> SessionsRevokedSinceAsync(DateTimeOffset since, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            "SELECT family_id, max(revoked_at) FROM sessions WHERE revoked_at > $1 AND revoked_reason <> $2 GROUP BY family_id ORDER BY 2",
            since, RevokeReason.Rotated.ToWireName());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var sessions = new List<(Guid, DateTimeOffset)>();
        while (await reader.ReadAsync(ct))
            sessions.Add((reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
        return sessions;
    }

    /// <summary>Revokes every live session of the user (role change, password change, disabled); returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> RevokeUserSessionsAsync(Guid userId, RevokeReason reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL RETURNING family_id", userId, now,
            reason.ToWireName());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var families = new List<Guid>();
        while (await reader.ReadAsync(ct))
            families.Add(reader.GetGuid(0));
        return families.Distinct().ToArray();
    }

    /// <summary>
    /// Whether the session was ended (any row of the family revoked for another reason than its
    /// own rotation): the durable answer behind the gateway's SessionRevocations.
    /// </summary>
    public async Task<bool> IsSessionRevokedAsync(Guid familyId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            "SELECT EXISTS (SELECT 1 FROM sessions WHERE family_id = $1 AND revoked_at IS NOT NULL AND revoked_reason <> $2)", familyId,
            RevokeReason.Rotated.ToWireName());
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task RevokeFamilyAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid familyId, RevokeReason reason,
        DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = Db.Command(conn, tx,
            "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE family_id = $1 AND revoked_at IS NULL", familyId, now, reason.ToWireName());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<UserRecord?> FindAsync(string sql, object key, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null, sql, key);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadUser(reader) : null;
    }

    private static UserRecord ReadUser(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3), r.GetString(4),
        r.GetFieldValue<string[]>(5), r.GetBoolean(6), r.GetFieldValue<DateTimeOffset>(7), r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8));

    /// <summary>Runs one statement; the rows it affected.</summary>
    private async Task<int> ExecuteAsync(string sql, CancellationToken ct, params object?[] values)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null, sql, values);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string? Limit(string? text) => text is { Length: > 512 } ? text[..512] : text;
}
