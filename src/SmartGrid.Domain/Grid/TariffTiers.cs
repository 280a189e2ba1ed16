namespace SmartGrid.Domain.Grid;

/// <summary>
/// One pricing tier: applies from <see cref="FromLoadPercent"/> upwards until the next tier.
/// <see cref="FromInclusive"/> says whether a load of exactly that value is already in this
/// tier; the seed needs both kinds ("&lt; 60 %: normal" puts 60 in the next tier, "&gt; 90 %:
/// peak" keeps 90 below it). The defaults are a configured tier's absent keys: the first tier starts at any load.
/// </summary>
public sealed record TariffTier(string Name, double FromLoadPercent = double.NegativeInfinity, bool FromInclusive = true, decimal SurchargePercent = 0m);

/// <summary>
/// Load-based pricing: the price per kWh is the region's base price plus the surcharge of
/// the tier its load falls in. Money is <see cref="decimal"/> so 6.50 + 10 % is 7.15 exactly.
/// </summary>
public sealed class TariffTiers
{
    /// <summary>The seed's table: &lt;60 % base, 60-80 % +10 %, 80-90 % +20 %, &gt;90 % +35 %.</summary>
    public static TariffTiers Default { get; } = new(
    [
        new("normal", double.NegativeInfinity, true, 0m),
        new("moderate", 60, true, 10m),
        new("high", 80, true, 20m),
        new("peak", 90, false, 35m),
    ]);

    public const decimal DefaultPublishThresholdPercent = 2m;

    public TariffTiers(IEnumerable<TariffTier> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        TariffTier[] list = tiers.ToArray();
        if (list.Length == 0 || !double.IsNegativeInfinity(list[0].FromLoadPercent))
        {
            // Otherwise some load would have no price.
            throw new ArgumentException("the first tier must start at negative infinity", nameof(tiers));
        }

        for (int i = 1; i < list.Length; i++)
        {
            if (!(list[i].FromLoadPercent > list[i - 1].FromLoadPercent))
            {
                throw new ArgumentException("tiers must be ordered by strictly ascending FromLoadPercent", nameof(tiers));
            }
        }

        Tiers = list;
    }

    public IReadOnlyList<TariffTier> Tiers { get; }

    public TariffTier TierFor(double loadPercent)
    {
        if (double.IsNaN(loadPercent))
        {
            throw new ArgumentOutOfRangeException(nameof(loadPercent), loadPercent, "load must be a number");
        }

        for (int i = Tiers.Count - 1; i > 0; i--)
        {
            TariffTier tier = Tiers[i];
            if (tier.FromInclusive ? loadPercent >= tier.FromLoadPercent : loadPercent > tier.FromLoadPercent)
            {
                return tier;
            }
        }

        return Tiers[0];
    }

    /// <summary>Price per kWh at this load: base × (1 + surcharge / 100).</summary>
    public decimal PriceFor(decimal basePricePerKwh, double loadPercent)
    {
        if (basePricePerKwh < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(basePricePerKwh), basePricePerKwh, "a price must not be negative");
        }

        return basePricePerKwh * (1m + TierFor(loadPercent).SurchargePercent / 100m);
    }

    /// <summary>
    /// Whether <paramref name="proposed"/> differs enough from the price in force to publish a
    /// tariff update: by more than <paramref name="thresholdPercent"/> of the current price
    /// (exactly 2 % is not enough). Always true when no price is in force yet, or when the
    /// current price is 0 and the proposed one is not.
    /// </summary>
    public static bool ShouldPublish(decimal? current, decimal proposed, decimal thresholdPercent = DefaultPublishThresholdPercent)
    {
        if (thresholdPercent < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdPercent), thresholdPercent, "threshold must not be negative");
        }

        if (current is not { } price)
        {
            return true;
        }

        if (price == 0)
        {
            return proposed != 0;
        }

        return Math.Abs(proposed - price) * 100m / Math.Abs(price) > thresholdPercent;
    }
}
