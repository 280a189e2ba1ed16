using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Tests.Grid;

public class TariffTiersSpecs
{
    private readonly TariffTiers _tiers = TariffTiers.Default;

    [Theory]
    [InlineData(0.0, "normal", "6.50")]
    [InlineData(59.9, "normal", "6.50")]
    [InlineData(60.0, "moderate", "7.150")]
    [InlineData(79.9, "moderate", "7.150")]
    [InlineData(80.0, "high", "7.800")]
    [InlineData(90.0, "high", "7.800")]
    [InlineData(90.1, "peak", "8.7750")]
    [InlineData(140.0, "peak", "8.7750")]
    public void Should_price_by_the_load_tier(double loadPercent, string tier, string price)
    {
        Assert.Equal(tier, _tiers.TierFor(loadPercent).Name);
        Assert.Equal(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture), _tiers.PriceFor(6.50m, loadPercent));
    }

    [Theory]
    [InlineData("100", "102", false)] // exactly 2 %: not more than the threshold
    [InlineData("100", "102.01", true)]
    [InlineData("100", "98", false)]
    [InlineData("100", "97.99", true)]
    [InlineData("6.50", "7.15", true)]
    [InlineData("7.15", "7.15", false)]
    public void Should_publish_only_a_change_above_the_threshold(string current, string proposed, bool publish)
    {
        Assert.Equal(publish, TariffTiers.ShouldPublish(decimal.Parse(current), decimal.Parse(proposed)));
    }

    [Fact]
    public void Should_publish_when_no_price_is_in_force()
    {
        Assert.True(TariffTiers.ShouldPublish(null, 6.50m));
        Assert.True(TariffTiers.ShouldPublish(0m, 6.50m));
        Assert.False(TariffTiers.ShouldPublish(0m, 0m));
    }

    [Fact]
    public void Should_use_the_given_threshold()
    {
        Assert.False(TariffTiers.ShouldPublish(100m, 104m, thresholdPercent: 5m));
        Assert.True(TariffTiers.ShouldPublish(100m, 100.5m, thresholdPercent: 0m));
    }

    [Fact]
    public void Should_use_a_configured_tier_table()
    {
        var tiers = new TariffTiers(
        [
            new("off-peak", double.NegativeInfinity, true, -10m),
            new("peak", 50, false, 50m),
        ]);

        Assert.Equal(9m, tiers.PriceFor(10m, 50));
        Assert.Equal(15m, tiers.PriceFor(10m, 50.01));
    }

    [Fact]
    public void Should_refuse_a_table_that_leaves_loads_unpriced_or_is_unordered()
    {
        Assert.Throws<ArgumentException>(() => new TariffTiers([new("normal", 0, true, 0m)]));
        Assert.Throws<ArgumentException>(() => new TariffTiers(
        [
            new("normal", double.NegativeInfinity, true, 0m),
            new("high", 80, true, 20m),
            new("moderate", 60, true, 10m),
        ]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TariffTiers.Default.TierFor(double.NaN));
    }

    [Fact]
    public void Should_name_each_broken_rule_by_tier_and_field()
    {
        Assert.Empty(TariffTiers.Check(TariffTiers.Default.Tiers));
        Assert.Equal(new[] { "0:FromLoadPercent", "1:Name", "2:FromLoadPercent", "2:SurchargePercent" }, TariffTiers.Check(
        [
            new("normal", 10, true, 0m),
            new(" ", 60, true, 10m),
            new("peak", 50, true, -100m),
        ]).Select(p => p.Key));
        Assert.Equal("1:FromLoadPercent", Assert.Single(TariffTiers.Check([new("normal"), new("high")])).Key);
        Assert.Equal("", Assert.Single(TariffTiers.Check([])).Key);
        Assert.Contains("tier 2:FromLoadPercent", Assert.Throws<ArgumentException>(() => new TariffTiers([new("normal"), new("high", 0), new("peak", 0)])).Message);
    }
}
