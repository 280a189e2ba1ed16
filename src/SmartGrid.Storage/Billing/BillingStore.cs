using System.Text.Json;
using Npgsql;
using SmartGrid.Domain.Billing;

namespace SmartGrid.Storage.Billing;

/// <summary>The outcome of one billing run.</summary>
public sealed record BillingRun(
    string Period, string Status, string Currency, int Invoices, int Created, int Updated, int Unchanged, int Windows, decimal EnergyKwh,
    decimal Amount, int UnpricedWindows, DateTimeOffset GeneratedAt);

/// <summary>An invoice as stored (lines as their stored JSON).</summary>
public sealed record Invoice(
    Guid InvoiceId, Guid UserId, string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, string Status, string Currency, int Windows,
    decimal EnergyKwh, decimal Amount, int UnpricedWindows, JsonElement Lines, int Revision, DateTimeOffset GeneratedAt);

/// <summary>
/// Generates and reads invoices. A run reads, per user, the 15-minute windows of the meters
/// assigned to them during the period (only while assigned), prices them with
/// <see cref="InvoiceCalculator"/> against the regions' tariff history and overrides, and
/// upserts one invoice per (user, period), its lines as <paramref name="linesJson"/> writes them. Runs of one period are
/// serialised by an advisory lock.
/// </summary>
public sealed class BillingStore(NpgsqlDataSource db, JsonSerializerOptions linesJson)
{
    private const string Columns =
        "invoice_id, user_id, period, period_start, period_end, status, currency, windows, energy_kwh, amount, unpriced_windows, lines::text, revision, generated_at";

    /// <summary>Null when a run of the same period is in progress elsewhere.</summary>
    public async Task<BillingRun?> RunAsync(BillingPeriod period, string currency, DateTimeOffset now, CancellationToken ct)
    {
        await using var lockConnection = await db.OpenConnectionAsync(ct);
        await using (var take = Db.Command(lockConnection, null, "SELECT pg_try_advisory_lock($1, hashtext($2))", AdvisoryLocks.Billing,
            period.ToString()))
        {
            if (!(bool)(await take.ExecuteScalarAsync(ct))!)
                return null;
        }
        try
        {
            return await GenerateAsync(period, currency, now, ct);
        }
        finally
        {
            await using var release = Db.Command(lockConnection, null, "SELECT pg_advisory_unlock($1, hashtext($2))", AdvisoryLocks.Billing,
                period.ToString());
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<BillingRun> GenerateAsync(BillingPeriod period, string currency, DateTimeOffset now, CancellationToken ct)
    {
        var histories = await LoadHistoriesAsync(period, ct);
        var status = period.End <= now ? "final" : "provisional";
        int invoices = 0, created = 0, updated = 0, windows = 0, unpriced = 0;
        decimal energy = 0, amount = 0;

        async Task SaveAsync(Guid user, List<MeteredWindow> userWindows)
        {
            var draft = InvoiceCalculator.Compute(period, userWindows, r => histories.GetValueOrDefault(r));
            switch (await UpsertAsync(user, draft, status, currency, now, ct))
            {
                case 1: created++; break;
                case > 1: updated++; break;
            }
            invoices++;
            windows += draft.Windows;
            unpriced += draft.UnpricedWindows;
            energy += draft.EnergyKwh;
            amount += draft.Amount;
        }

        // The windows of each meter while it was assigned to the user; a user whose meters
        // reported nothing still gets a (zero) invoice for the period.
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            """
            SELECT a.user_id, w.meter_id, w.region, w.window_start, w.energy_kwh_sum
            FROM meter_user_assignments a
            LEFT JOIN aggregates_15m w ON w.meter_id = a.meter_id
                 AND w.window_start >= GREATEST(a.assigned_at, $1)
                 AND w.window_start < LEAST(COALESCE(a.unassigned_at, 'infinity'::timestamptz), $2)
            WHERE a.assigned_at < $2 AND (a.unassigned_at IS NULL OR a.unassigned_at > $1)
            ORDER BY a.user_id, w.meter_id, w.window_start
            """, period.Start, period.End);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        Guid? current = null;
        var pending = new List<MeteredWindow>();
        while (await reader.ReadAsync(ct))
        {
            var user = reader.GetGuid(0);
            if (current is { } previous && previous != user)
            {
                await SaveAsync(previous, pending);
                pending = [];
            }
            current = user;
            if (!reader.IsDBNull(1))
                pending.Add(new MeteredWindow(reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetDouble(4)));
        }
        if (current is { } last)
            await SaveAsync(last, pending);

        return new BillingRun(period.ToString(), status, currency, invoices, created, updated, invoices - created - updated, windows, energy, amount,
            unpriced, now);
    }

    /// <summary>The tariff rows effective before the period ends and the overrides that touch it, per region.</summary>
    private async Task<Dictionary<string, RegionPriceHistory>> LoadHistoriesAsync(BillingPeriod period, CancellationToken ct)
    {
        var changes = await ReadPerRegionAsync(
            "SELECT region, effective_from, seq, price_per_kwh, reason = 'base', override_id FROM tariffs WHERE effective_from < $1",
            r => new TariffChange(r.GetFieldValue<DateTimeOffset>(1), r.GetInt64(2), r.GetDecimal(3), r.GetBoolean(4),
                r.IsDBNull(5) ? null : r.GetGuid(5)), ct, period.End);
        var overrides = await ReadPerRegionAsync(
            """
            SELECT region, override_id, valid_from, valid_to, created_at, price_per_kwh, percentage, lifted_at
            FROM tariff_overrides WHERE valid_from < $2 AND valid_to > $1 - interval '1 day'
            """,
            r => new PriceOverride(r.GetGuid(1), r.GetFieldValue<DateTimeOffset>(2), r.GetFieldValue<DateTimeOffset>(3),
                r.GetFieldValue<DateTimeOffset>(4), r.IsDBNull(5) ? null : r.GetDecimal(5), r.IsDBNull(6) ? null : r.GetDecimal(6),
                r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7)), ct, period.Start, period.End);

        return changes.Keys.Union(overrides.Keys).ToDictionary(
            region => region,
            region => new RegionPriceHistory(changes.GetValueOrDefault(region) ?? [], overrides.GetValueOrDefault(region)),
            StringComparer.Ordinal);
    }

    /// <summary>Rows grouped by their first column, the region; <paramref name="times"/> are $1, $2...</summary>
    private async Task<Dictionary<string, List<T>>> ReadPerRegionAsync<T>(string sql, Func<NpgsqlDataReader, T> read, CancellationToken ct,
        params DateTimeOffset[] times)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null, sql, Array.ConvertAll(times, t => (object?)t));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var rows = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        while (await r.ReadAsync(ct))
        {
            var region = r.GetString(0);
            if (!rows.TryGetValue(region, out var list))
                rows[region] = list = [];
            list.Add(read(r));
        }
        return rows;
    }

    /// <summary>The invoice's revision after the write (1 = created), or 0 when it was stored with exactly these figures already.</summary>
    private async Task<int> UpsertAsync(Guid user, InvoiceDraft draft, string status, string currency, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            """
            INSERT INTO invoices (invoice_id, user_id, period, period_start, period_end, status, currency, windows, energy_kwh, amount,
                                  unpriced_windows, lines, generated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)
            ON CONFLICT (user_id, period) DO UPDATE SET
                status = EXCLUDED.status, currency = EXCLUDED.currency, windows = EXCLUDED.windows, energy_kwh = EXCLUDED.energy_kwh,
                amount = EXCLUDED.amount, unpriced_windows = EXCLUDED.unpriced_windows, lines = EXCLUDED.lines,
                generated_at = EXCLUDED.generated_at, revision = invoices.revision + 1
            WHERE (invoices.status, invoices.currency, invoices.windows, invoices.energy_kwh, invoices.amount, invoices.unpriced_windows, invoices.lines)
                  IS DISTINCT FROM
                  (EXCLUDED.status, EXCLUDED.currency, EXCLUDED.windows, EXCLUDED.energy_kwh, EXCLUDED.amount, EXCLUDED.unpriced_windows, EXCLUDED.lines)
            RETURNING revision
            """, Guid.CreateVersion7(), user, draft.Period.ToString(), draft.Period.Start, draft.Period.End, status, currency, draft.Windows,
            draft.EnergyKwh, draft.Amount, draft.UnpricedWindows, JsonSerializer.Serialize(draft.Lines, linesJson), now);
        return await cmd.ExecuteScalarAsync(ct) is int revision ? revision : 0;
    }

    /// <summary>The user's invoices, newest period first, and their total.</summary>
    public async Task<(IReadOnlyList<Invoice> Items, long Total)> ListAsync(Guid userId, int limit, int offset, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null,
            $"SELECT {Columns}, count(*) OVER () FROM invoices WHERE user_id = $1 ORDER BY period DESC LIMIT $2 OFFSET $3", userId);
        return await cmd.ReadPageAsync(limit, offset, Read, ct);
    }

    /// <summary>The invoice if it belongs to the user; another user's answers like a missing one.</summary>
    public async Task<Invoice?> FindAsync(Guid userId, Guid invoiceId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var cmd = Db.Command(connection, null, $"SELECT {Columns} FROM invoices WHERE invoice_id = $1 AND user_id = $2", invoiceId, userId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    private static Invoice Read(NpgsqlDataReader r)
    {
        using var lines = JsonDocument.Parse(r.GetString(11));
        return new Invoice(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4),
            r.GetString(5), r.GetString(6), r.GetInt32(7), r.GetDecimal(8), r.GetDecimal(9), r.GetInt32(10), lines.RootElement.Clone(), r.GetInt32(12),
            r.GetFieldValue<DateTimeOffset>(13));
    }
}
