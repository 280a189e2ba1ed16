using SmartGrid.Domain.Billing;

namespace SmartGrid.Domain.Tests.Billing;

public sealed class InvoiceCalculatorSpecs
{
    private const string Meter = "MTR-00000001";
    private const string Region = "Pune-West";
    private static readonly BillingPeriod March = Period("2026-03");
    private static readonly DateTimeOffset Day = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly TariffChange Base = new(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), 1, 8.00m, IsBaseRate: true);

    [Fact]
    public void Should_price_each_window_at_the_tariff_in_force_at_its_start()
    {
        var history = new RegionPriceHistory([Base, new(At(10, 0), 5, 8.80m), new(At(12, 0), 6, 10.80m)]);
        var draft = InvoiceCalculator.Compute(March,
        [
            W(At(9, 45), 1.25), // 8.00 (base)
            W(At(10, 0), 2.0), // 8.80: a change effective exactly at the start counts
            W(At(10, 15), 0.5), // 8.80
            W(At(12, 0), 1.0), // 10.80
            W(Day.AddMinutes(-15), 100), // February: not this period
        ], _ => history);

        // 1.25 × 8.00 = 10.00; (2.0 + 0.5) × 8.80 = 22.00; 1.0 × 10.80 = 10.80
        Assert.Equal(
        [
            (8.00m, 1, 1.25m, 10.00m),
            (8.80m, 2, 2.5m, 22.00m),
            (10.80m, 1, 1.0m, 10.80m),
        ], draft.Lines.Select(l => (l.PricePerKwh, l.Windows, l.EnergyKwh, l.Amount)));
        Assert.Equal(42.80m, draft.Amount);
        Assert.Equal(4.75m, draft.EnergyKwh);
        Assert.Equal(4, draft.Windows);
        Assert.Equal(0, draft.UnpricedWindows);
        Assert.Equal((At(10, 0), At(10, 15)), (draft.Lines[1].FirstWindowStart, draft.Lines[1].LastWindowStart));
    }

    [Fact]
    public void Should_bill_an_override_exactly_over_its_validity_despite_the_managers_lag()
    {
        var id = Guid.NewGuid();
        var overrideRow = new PriceOverride(id, At(10, 0), At(11, 0), At(9, 0), 12.00m, null);
        var history = new RegionPriceHistory(
        [
            Base,
            new(At(9, 0), 2, 8.80m),
            new(At(10, 0).AddSeconds(7), 3, 12.00m, OverrideId: id), // applied 7 s late
            new(At(11, 0).AddSeconds(9), 4, 8.80m), // its end, applied 9 s late
        ], [overrideRow]);

        var draft = InvoiceCalculator.Compute(March,
            [W(At(9, 45), 1.0), W(At(10, 0), 1.0), W(At(10, 45), 0.5), W(At(11, 0), 2.0), W(At(11, 15), 1.0)], _ => history);

        // 8.80 × (1.0 + 2.0 + 1.0) = 35.20; 12.00 × (1.0 + 0.5) = 18.00
        var normal = Assert.Single(draft.Lines, l => l.OverrideId is null);
        var overridden = Assert.Single(draft.Lines, l => l.OverrideId == id);
        Assert.Equal((8.80m, 3, 4.0m, 35.20m), (normal.PricePerKwh, normal.Windows, normal.EnergyKwh, normal.Amount));
        Assert.Equal((12.00m, 2, 1.5m, 18.00m), (overridden.PricePerKwh, overridden.Windows, overridden.EnergyKwh, overridden.Amount));
        Assert.Equal(53.20m, draft.Amount);
    }

    [Fact]
    public void Should_keep_the_override_price_after_its_end_when_the_manager_kept_it()
    {
        var id = Guid.NewGuid();
        var history = new RegionPriceHistory(
            [Base, new(At(10, 0), 3, 8.50m, OverrideId: id)],
            [new PriceOverride(id, At(10, 0), At(11, 0), At(9, 0), 8.50m, null)]);

        // No row for the end: the load price was within the publish threshold, so 8.50 stayed in force.
        Assert.Equal(new PriceInForce(8.50m, null), history.PriceAt(At(11, 0)));
        Assert.Equal(new PriceInForce(8.50m, id), history.PriceAt(At(10, 59)));
        Assert.Equal(new PriceInForce(8.00m, null), history.PriceAt(At(9, 59)));
    }

    [Fact]
    public void Should_apply_a_percentage_override_to_the_base_rate_until_it_is_lifted()
    {
        var id = Guid.NewGuid();
        var history = new RegionPriceHistory([Base, new(At(0, 0), 2, 9.60m)],
            [new PriceOverride(id, At(10, 0), At(14, 0), At(9, 0), null, -25m, LiftedAt: At(10, 30))]);

        // 8.00 × (1 - 25 %) = 6.00 on the base rate, not on the 9.60 load price; lifted at 10:30.
        var draft = InvoiceCalculator.Compute(March, [W(At(10, 0), 1.0), W(At(10, 15), 3.0), W(At(10, 30), 1.0)], _ => history);
        Assert.Equal([(6.00m, (Guid?)id, 4.0m, 24.00m), (9.60m, null, 1.0m, 9.60m)],
            draft.Lines.Select(l => (l.PricePerKwh, l.OverrideId, l.EnergyKwh, l.Amount)));
    }

    [Fact]
    public void Should_let_the_newest_override_win_like_the_tariff_manager()
    {
        var older = new PriceOverride(Guid.NewGuid(), At(8, 0), At(18, 0), At(7, 0), 11.00m, null);
        var newer = new PriceOverride(Guid.NewGuid(), At(9, 0), At(10, 0), At(7, 30), 7.00m, null);
        var history = new RegionPriceHistory([Base], [older, newer]);
        Assert.Equal(11.00m, history.PriceAt(At(8, 45))!.PricePerKwh);
        Assert.Equal(7.00m, history.PriceAt(At(9, 0))!.PricePerKwh);
        Assert.Equal(11.00m, history.PriceAt(At(10, 0))!.PricePerKwh);
    }

    [Fact]
    public void Should_round_each_line_once_not_each_window()
    {
        var history = new RegionPriceHistory([new(At(0, 0), 1, 8.125m)]);
        var draft = InvoiceCalculator.Compute(March, [W(At(1, 0), 0.1), W(At(1, 15), 0.1), W(At(1, 30), 0.1)], _ => history);

        // 0.3 × 8.125 = 2.4375 → 2.44 (rounding every window would give 3 × 0.81 = 2.43)
        Assert.Equal(2.44m, Assert.Single(draft.Lines).Amount);
        Assert.Equal(0.3m, draft.EnergyKwh);
    }

    [Fact]
    public void Should_count_windows_of_a_region_without_prices_apart_and_split_lines_per_meter()
    {
        var history = new RegionPriceHistory([Base]);
        var draft = InvoiceCalculator.Compute(March,
            [W(At(1, 0), 1.0), W(At(1, 0), 2.0, "MTR-00000002"), W(At(1, 0), 5.0, region: "Atlantis")],
            r => r == Region ? history : null);

        Assert.Equal([(Meter, 8.00m), ("MTR-00000002", 16.00m)], draft.Lines.Select(l => (l.MeterId, l.Amount)));
        Assert.Equal((1, 5.0m), (draft.UnpricedWindows, draft.UnpricedEnergyKwh));
        Assert.Equal((3, 8.0m, 24.00m), (draft.Windows, draft.EnergyKwh, draft.Amount));
    }

    [Fact]
    public void Should_refuse_negative_energy()
    {
        var history = new RegionPriceHistory([Base]);
        Assert.Throws<ArgumentException>(() => InvoiceCalculator.Compute(March, [W(At(1, 0), -1)], _ => history));
    }

    [Theory]
    [InlineData("2026-03", true)]
    [InlineData("2026-12", true)]
    [InlineData("2026-13", false)]
    [InlineData("2026-00", false)]
    [InlineData("2026-3", false)]
    [InlineData("26-03-01", false)]
    [InlineData("", false)]
    public void Should_parse_only_YYYY_MM_periods(string text, bool valid) =>
        Assert.Equal(valid, BillingPeriod.TryParse(text, out _));

    [Fact]
    public void Should_span_a_calendar_month_in_UTC()
    {
        var february = Period("2028-02");
        Assert.Equal((new DateTimeOffset(2028, 2, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2028, 3, 1, 0, 0, 0, TimeSpan.Zero)),
            (february.Start, february.End));
        Assert.Equal("2028-02", february.ToString());
        Assert.True(february.Contains(new DateTimeOffset(2028, 2, 29, 23, 45, 0, TimeSpan.Zero)));
        Assert.False(february.Contains(february.End));
    }

    private static BillingPeriod Period(string text) => BillingPeriod.TryParse(text, out var p) ? p : throw new ArgumentException(text);

    private static DateTimeOffset At(int hour, int minute) => Day.AddHours(hour).AddMinutes(minute);

    private static MeteredWindow W(DateTimeOffset start, double energy, string meter = Meter, string region = Region) => new(meter, region, start, energy);
}
