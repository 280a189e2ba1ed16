using System.Net;
using System.Text.Json;

namespace SmartGrid.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class BillingSpecs(GatewayFixture gateway)
{
    private const string Region = "Pune-West";

    [Fact]
    public async Task Should_bill_each_window_at_the_price_in_force_once_per_user_and_period()
    {
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-1);
        var period = start.ToString("yyyy-MM");
        DateTimeOffset Day(int day, int hour = 0) => start.AddDays(day - 1).AddHours(hour);

        var (alice, aliceId, aliceMeter, _) = await gateway.UserWithMeterAsync(Region);
        var (bob, _, bobMeter, _) = await gateway.UserWithMeterAsync(Region);
        await gateway.ExecuteAsync("UPDATE meter_user_assignments SET assigned_at = $2 WHERE meter_id = $1", aliceMeter, start.AddMonths(-1));
        // Bob got his meter mid-month: only the windows from then on are his.
        await gateway.ExecuteAsync("UPDATE meter_user_assignments SET assigned_at = $2 WHERE meter_id = $1", bobMeter, Day(15));

        // Base rate 8.00 (migration), 8.80 from the 10th, and an override of -25 % (6.00) on the 25th.
        await gateway.ExecuteAsync(
            """
            INSERT INTO tariffs (tariff_id, region, price_per_kwh, effective_from, reason, triggered_by, published_at)
            VALUES ($1, $2, 8.80, $3, 'load-based', 'system', now())
            """, Guid.NewGuid(), Region, Day(10));
        await gateway.ExecuteAsync(
            """
            INSERT INTO tariff_overrides (override_id, region, percentage, valid_from, valid_to, reason, created_by)
            VALUES ($1, $2, -25, $3, $4, 'festival', 'admin')
            """, Guid.NewGuid(), Region, Day(25), Day(26));
        await gateway.Storage.Aggregates.UpsertAsync(
        [
            Scenario.Window15m(aliceMeter, Region, Day(5, 10), 1.5), // 1.5 × 8.00 = 12.00
            Scenario.Window15m(aliceMeter, Region, Day(20, 10), 2.5), // 2.5 × 8.80 = 22.00
            Scenario.Window15m(aliceMeter, Region, Day(25, 12), 2.0), // 2.0 × 6.00 = 12.00
            Scenario.Window15m(aliceMeter, Region, start.AddMonths(1), 9.0), // next period
            Scenario.Window15m(bobMeter, Region, Day(10, 8), 4.0), // before Bob's assignment
            Scenario.Window15m(bobMeter, Region, Day(16), 1.0), // 1.0 × 8.80 = 8.80
        ], null);

        using var admin = await gateway.AdminAsync();
        var run = await (await admin.PostAsync($"/api/v1/billing/admin/run?period={period}", null)).JsonAsync();
        Assert.Equal(("final", 2, 2, 0), (run.GetProperty("status").GetString(), run.GetProperty("invoices").GetInt32(),
            run.GetProperty("created").GetInt32(), run.GetProperty("updated").GetInt32()));
        Assert.Equal(54.80m, run.GetProperty("amount").GetDecimal());

        var invoices = await (await alice.GetAsync("/api/v1/billing/user/invoices")).JsonAsync();
        var invoice = Assert.Single(invoices.GetProperty("items").EnumerateArray());
        Assert.Equal((period, 46.00m, 6.0m, 3), (invoice.GetProperty("period").GetString(), invoice.GetProperty("amount").GetDecimal(),
            invoice.GetProperty("energy_kwh").GetDecimal(), invoice.GetProperty("windows").GetInt32()));
        Assert.Equal([(8.00m, 12.00m), (8.80m, 22.00m), (6.00m, 12.00m)], Lines(invoice));
        var invoiceId = invoice.GetProperty("invoice_id").GetGuid();
        var bobs = await (await bob.GetAsync("/api/v1/billing/user/invoices")).JsonAsync();
        Assert.Equal([(8.80m, 8.80m)], Lines(Assert.Single(bobs.GetProperty("items").EnumerateArray())));

        // Re-running changes nothing and adds nothing.
        var rerun = await (await admin.PostAsync($"/api/v1/billing/admin/run?period={period}", null)).JsonAsync();
        Assert.Equal((0, 0, 2), (rerun.GetProperty("created").GetInt32(), rerun.GetProperty("updated").GetInt32(), rerun.GetProperty("unchanged").GetInt32()));

        // A late window: the same invoice is replaced (same id, next revision), never duplicated.
        await gateway.Storage.Aggregates.UpsertAsync([Scenario.Window15m(aliceMeter, Region, Day(21), 1.0)], null);
        var late = await (await admin.PostAsync($"/api/v1/billing/admin/run?period={period}", null)).JsonAsync();
        Assert.Equal(1, late.GetProperty("updated").GetInt32());
        var replaced = await (await alice.GetAsync($"/api/v1/billing/user/invoices/{invoiceId}")).JsonAsync();
        Assert.Equal((54.80m, 2), (replaced.GetProperty("amount").GetDecimal(), replaced.GetProperty("revision").GetInt32()));
        Assert.Equal([(8.00m, 12.00m), (8.80m, 30.80m), (6.00m, 12.00m)], Lines(replaced));
        await using var count = gateway.Storage.DataSource.CreateCommand("SELECT count(*) FROM invoices WHERE user_id = $1");
        count.Parameters.Add(new Npgsql.NpgsqlParameter { Value = aliceId });
        Assert.Equal(1L, await count.ExecuteScalarAsync());

        // Only one's own invoices.
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/billing/user/invoices/{invoiceId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/v1/billing/user/invoices/{Guid.NewGuid()}")).StatusCode);
        Assert.Contains("UUID", await (await alice.GetAsync("/api/v1/billing/user/invoices/12")).FieldErrorAsync("invoiceId"));
    }

    [Fact]
    public async Task Should_validate_the_period_and_allow_only_admins_to_run_billing()
    {
        using var admin = await gateway.AdminAsync();
        Assert.Contains("required", await (await admin.PostAsync("/api/v1/billing/admin/run", null)).FieldErrorAsync("period"));
        Assert.Contains("YYYY-MM", await (await admin.PostAsync("/api/v1/billing/admin/run?period=2026-13", null)).FieldErrorAsync("period"));
        Assert.Contains("YYYY-MM", await (await admin.PostAsync("/api/v1/billing/admin/run?period=2026-1", null)).FieldErrorAsync("period"));
        var future = DateTimeOffset.UtcNow.AddMonths(2).ToString("yyyy-MM");
        Assert.Contains("not started", await (await admin.PostAsync($"/api/v1/billing/admin/run?period={future}", null)).FieldErrorAsync("period"));

        var (user, _, _, _) = await gateway.UserWithMeterAsync(Region);
        var (op, _, _) = await gateway.OperatorOfAsync(Region);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsync("/api/v1/billing/admin/run?period=2026-01", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PostAsync("/api/v1/billing/admin/run?period=2026-01", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await op.GetAsync("/api/v1/billing/user/invoices")).StatusCode);
        Assert.Contains("integer", await (await user.GetAsync("/api/v1/billing/user/invoices?limit=-1")).FieldErrorAsync("limit"));
    }

    private static (decimal Price, decimal Amount)[] Lines(JsonElement invoice) =>
        invoice.GetProperty("lines").EnumerateArray()
            .Select(l => (l.GetProperty("price_per_kwh").GetDecimal(), l.GetProperty("amount").GetDecimal())).ToArray();
}
