using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Tests.Grid;

public class TariffPricingSpecs
{
    private static readonly DateTimeOffset Ten = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly TariffPolicy Policy = new(TariffTiers.Default, PublishThresholdPercent: 2m);

    [Fact]
    public void Should_price_by_the_load_tier_on_the_base_rate()
    {
        var state = TariffRegionState.Empty.Apply(Ten, 1, 85);

        var change = state.Decide(Policy, basePricePerKwh: 6.50m, current: 6.50m, active: null);

        Assert.Equal(new PriceChange(7.80m, 6.50m, null, 85), change);
    }

    [Fact]
    public void Should_let_an_active_override_win_over_the_load_tier()
    {
        var state = TariffRegionState.Empty.Apply(Ten, 1, 95);
        var fixedPrice = new ActiveOverride(Guid.NewGuid(), 5m, null, "admin");
        var percentage = new ActiveOverride(Guid.NewGuid(), null, -10m, "admin");

        Assert.Equal(5m, state.Decide(Policy, 8m, 10.8m, fixedPrice)!.PricePerKwh);
        Assert.Equal(fixedPrice, state.Decide(Policy, 8m, 10.8m, fixedPrice)!.Override);
        Assert.Equal(7.2m, state.Decide(Policy, 8m, 10.8m, percentage)!.PricePerKwh);
    }

    [Fact]
    public void Should_change_nothing_when_the_price_moves_by_the_threshold_or_less()
    {
        var state = TariffRegionState.Empty.Apply(Ten, 1, 50);

        Assert.Null(state.Decide(Policy, basePricePerKwh: 10.20m, current: 10m, active: null));
        Assert.NotNull(state.Decide(Policy, basePricePerKwh: 10.21m, current: 10m, active: null));
    }

    [Fact]
    public void Should_price_at_the_base_rate_before_any_load_and_publish_the_first_price()
    {
        var change = TariffRegionState.Empty.Decide(Policy, basePricePerKwh: 8m, current: null, active: null);

        Assert.Equal(new PriceChange(8m, null, null, null), change);
    }

    [Fact]
    public void Should_round_money_to_four_places_away_from_zero()
    {
        var state = TariffRegionState.Empty.Apply(Ten, 1, 65);

        Assert.Equal(1.1001m, state.Decide(Policy, basePricePerKwh: 1.00005m, current: null, active: null)!.PricePerKwh);
    }

    [Theory]
    [InlineData(-15, 1, true)]
    [InlineData(0, 1, true)]
    [InlineData(0, 2, false)]
    [InlineData(15, 1, false)]
    public void Should_recognise_an_older_window_or_an_applied_revision_as_a_redelivery(int minutes, int revision, bool applied)
    {
        var state = TariffRegionState.Empty.Apply(Ten, 1, 50);

        Assert.Equal(applied, state.HasApplied(Ten.AddMinutes(minutes), revision));
        Assert.False(TariffRegionState.Empty.HasApplied(Ten, 0));
    }
}
