namespace SmartGrid.Domain.Grid;

/// <summary>How prices are set: the load tiers and how far a price must move to be published.</summary>
public sealed record TariffPolicy(TariffTiers Tiers, decimal PublishThresholdPercent);

/// <summary>An admin override in force: a fixed price, or a percentage on the region's base rate.</summary>
public sealed record ActiveOverride(Guid OverrideId, decimal? PricePerKwh, decimal? Percentage, string CreatedBy)
{
    public decimal PriceOn(decimal basePricePerKwh) => PricePerKwh ?? basePricePerKwh * (1m + (Percentage ?? 0m) / 100m);
}

/// <summary>A new price in force for a region. <see cref="Override"/> set: an admin override set it; null: the load tier did.</summary>
public sealed record PriceChange(decimal PricePerKwh, decimal? OldPrice, ActiveOverride? Override, double? LoadPercent);

/// <summary>
/// A region's tariff progress as the TariffManager keeps it (tariff_region_state): the newest applied
/// 15-minute window (start, revision) and its load. <see cref="Decide"/> prices the region: an active
/// override wins over the load tier, and a change is published only when it moves the price in force by
/// more than the policy's threshold.
/// </summary>
public sealed record TariffRegionState(DateTimeOffset? WindowStart, int Revision, double? LoadPercent)
{
    public static TariffRegionState Empty { get; } = new(null, 0, null);

    /// <summary>A window older than the newest applied, or a revision of it applied already: a redelivery.</summary>
    public bool HasApplied(DateTimeOffset windowStart, int revision) =>
        WindowStart is { } last && (windowStart < last || (windowStart == last && revision <= Revision));

    /// <summary>The only mutator: the state after the window's load was applied.</summary>
    public TariffRegionState Apply(DateTimeOffset windowStart, int revision, double loadPercent) =>
        this with { WindowStart = windowStart.ToUniversalTime(), Revision = revision, LoadPercent = loadPercent };

    /// <summary>
    /// The price the region should have now, when it differs enough from <paramref name="current"/> (null: no
    /// price in force yet); null when nothing is to change. Money is rounded to 4 places (numeric(12,4)).
    /// </summary>
    public PriceChange? Decide(TariffPolicy policy, decimal basePricePerKwh, decimal? current, ActiveOverride? active)
    {
        var desired = active?.PriceOn(basePricePerKwh)
                      ?? (LoadPercent is { } load ? policy.Tiers.PriceFor(basePricePerKwh, load) : basePricePerKwh);
        desired = Math.Round(desired, 4, MidpointRounding.AwayFromZero);
        return TariffTiers.ShouldPublish(current, desired, policy.PublishThresholdPercent)
            ? new PriceChange(desired, current, active, LoadPercent)
            : null;
    }
}
