namespace SmartGrid.Domain.Grid;

/// <summary>
/// One pricing tier: applies from <see cref="FromLoadPercent"/> upwards until the next tier.
/// <see cref="FromInclusive"/> says whether a load of exactly that value is already in this
/// tier; the seed needs both kinds ("&lt; 60 %: normal" puts 60 in the next tier, "&gt; 90 %:
/// peak" keeps 90 below it). The defaults are a configured tier's absent keys: the first tier starts at any load.
/// </summary>
public sealed record TariffTier(string Name, double FromLoadPercent = double.NegativeInfinity, bool FromInclusive = true, decimal SurchargePercent = 0m);

/// <summary>One broken rule of a tier table: <see cref="Key"/> names the tier's index and field ("1:FromLoadPercent"), empty for the table.</summary>
public sealed record TariffTierProblem(string Key, string Problem);

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
        if (Check(list) is [var problem, ..])
        {
            throw new ArgumentException($"tier {problem.Key}: {problem.Problem}", nameof(tiers));
        }

        Tiers = list;
    }

    /// <summary>
    /// What is wrong with <paramref name="tiers"/> as a price table, each problem keyed by the tier's index and field
    /// ("1:FromLoadPercent"; empty for the table itself), as configuration names them; empty when every load has one price.
    /// </summary>
    public static IReadOnlyList<TariffTierProblem> Check(IReadOnlyList<TariffTier> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var problems = new List<TariffTierProblem>();
        if (tiers.Count == 0)
        {
            problems.Add(new("", "at least one tier is required"));
        }

        for (int i = 0; i < tiers.Count; i++)
        {
            TariffTier tier = tiers[i];
            if (string.IsNullOrWhiteSpace(tier.Name))
            {
                problems.Add(new($"{i}:Name", "is required"));
            }

            // The first tier starts at any load and each next one strictly above the one before: otherwise some load would have no price.
            if (i == 0 && !double.IsNegativeInfinity(tier.FromLoadPercent))
            {
                problems.Add(new($"{i}:FromLoadPercent", "must be absent: the first tier starts at any load"));
            }
            else if (i > 0 && !double.IsFinite(tier.FromLoadPercent))
            {
                problems.Add(new($"{i}:FromLoadPercent", "is required after the first tier"));
            }
            else if (i > 0 && !(tier.FromLoadPercent > tiers[i - 1].FromLoadPercent))
            {
                problems.Add(new($"{i}:FromLoadPercent", "must be above the tier before it (tiers go by strictly ascending FromLoadPercent)"));
            }

            if (!(tier.SurchargePercent > -100))
            {
                problems.Add(new($"{i}:SurchargePercent", "must be > -100"));
            }
        }

        return problems;
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
