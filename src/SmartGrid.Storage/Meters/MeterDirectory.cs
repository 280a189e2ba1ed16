using Npgsql;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage.Meters;

public enum AssignOutcome { Assigned, AlreadyAssigned, MeterNotFound, UserNotFound, AssignedToAnother }

public sealed record MeterAssignment(string MeterId, Guid UserId, DateTimeOffset AssignedAt);

/// <summary>
/// Meters as the gateway manages them: registration by an admin and ownership
/// (<c>meter_user_assignments</c>, mirrored into <c>meters.user_id</c>).
/// </summary>
public sealed class MeterDirectory(NpgsqlDataSource dataSource)
{
    /// <summary>The meters the user currently owns, oldest assignment first.</summary>
    public async Task<IReadOnlyList<string>> MetersOfAsync(Guid userId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            "SELECT meter_id FROM meter_user_assignments WHERE user_id = $1 AND unassigned_at IS NULL ORDER BY assigned_at, id", userId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var meters = new List<string>();
        while (await reader.ReadAsync(ct))
            meters.Add(reader.GetString(0));
        return meters;
    }

    /// <summary>Registers a meter (not auto-provisioned); false when it exists already.</summary>
    public async Task<bool> CreateAsync(string meterId, string region, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            "INSERT INTO meters (meter_id, region, auto_provisioned) VALUES ($1, $2, false) ON CONFLICT (meter_id) DO NOTHING", meterId, region);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Gives the meter to the user. A meter has one owner at a time: unassign it first to move it.</summary>
    public async Task<AssignOutcome> AssignAsync(string meterId, Guid userId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var meter = Db.Command(conn, tx, "SELECT 1 FROM meters WHERE meter_id = $1 FOR UPDATE", meterId))
        {
            if (await meter.ExecuteScalarAsync(ct) is null)
                return AssignOutcome.MeterNotFound;
        }
        await using (var user = Db.Command(conn, tx, "SELECT 1 FROM users WHERE id = $1", userId))
        {
            if (await user.ExecuteScalarAsync(ct) is null)
                return AssignOutcome.UserNotFound;
        }
        await using (var current = Db.Command(conn, tx,
            "SELECT user_id FROM meter_user_assignments WHERE meter_id = $1 AND unassigned_at IS NULL", meterId))
        {
            if (await current.ExecuteScalarAsync(ct) is Guid owner)
                return owner == userId ? AssignOutcome.AlreadyAssigned : AssignOutcome.AssignedToAnother;
        }
        // One statement: the assignment and its mirror in meters (whose user_id is text) are written together.
        await using (var assign = Db.Command(conn, tx, """
            WITH assignment AS (INSERT INTO meter_user_assignments (meter_id, user_id) VALUES ($1, $2))
            UPDATE meters SET user_id = $3 WHERE meter_id = $1
            """, meterId, userId, userId.ToString()))
            await assign.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return AssignOutcome.Assigned;
    }

    /// <summary>Ends the meter's current assignment; false when it had none.</summary>
    public async Task<bool> UnassignAsync(string meterId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var end = Db.Command(conn, tx,
            "UPDATE meter_user_assignments SET unassigned_at = now() WHERE meter_id = $1 AND unassigned_at IS NULL", meterId))
        {
            if (await end.ExecuteNonQueryAsync(ct) == 0)
                return false;
        }
        await using (var mirror = Db.Command(conn, tx, "UPDATE meters SET user_id = NULL WHERE meter_id = $1", meterId))
            await mirror.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<MeterAssignment?> CurrentAssignmentAsync(string meterId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null,
            "SELECT user_id, assigned_at FROM meter_user_assignments WHERE meter_id = $1 AND unassigned_at IS NULL", meterId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new MeterAssignment(meterId, reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    /// <summary>Start of the meter's newest stored window of the size, or null when it has none.</summary>
    public async Task<DateTimeOffset?> LatestWindowStartAsync(string meterId, WindowSize size, CancellationToken ct)
    {
        var table = size == WindowSize.OneMinute ? "aggregates_1m" : "aggregates_15m";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(conn, null, $"SELECT max(window_start) FROM {table} WHERE meter_id = $1", meterId);
        return await cmd.ExecuteScalarAsync(ct) is DateTime start ? new DateTimeOffset(start, TimeSpan.Zero) : null;
    }
}
