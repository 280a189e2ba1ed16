namespace SmartGrid.Contracts.Tariffs;

/// <summary>
/// An admin override on the tariff_overrides topic. Either a fixed price (price_per_kwh, or price)
/// or a percentage applied to the region's base rate, valid in [valid_from, valid_to).
/// action "lift" ends the override <see cref="OverrideId"/> early. Without an override_id the
/// id is derived from the content, so a redelivered message is still recognised.
/// </summary>
public sealed record TariffOverrideMessage
{
    public Guid? OverrideId { get; init; }
    public required string Region { get; init; }
    public decimal? PricePerKwh { get; init; }
    public decimal? Price { get; init; }
    public decimal? Percentage { get; init; }
    public DateTimeOffset ValidFrom { get; init; }
    public DateTimeOffset ValidTo { get; init; }
    public string? Reason { get; init; }
    public string CreatedBy { get; init; } = "admin";
    /// <summary>"create" (default) or "lift".</summary>
    public string? Action { get; init; }

    public bool IsLift => string.Equals(Action, "lift", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A tariff_updates message: one change of a region's price in force.</summary>
public sealed record TariffUpdateMessage
{
    public required Guid TariffId { get; init; }
    public required string Region { get; init; }
    public decimal? OldPrice { get; init; }
    public required decimal NewPrice { get; init; }
    public decimal PricePerKwh => NewPrice;
    public required DateTimeOffset EffectiveFrom { get; init; }
    /// <summary>load-based | admin-override</summary>
    public required string Reason { get; init; }
    /// <summary>system | the admin user's id</summary>
    public required string TriggeredBy { get; init; }
    public Guid? OverrideId { get; init; }
    public double? LoadPercent { get; init; }
    public DateTimeOffset? SourceWindowStart { get; init; }
    public int? SourceRevision { get; init; }
}

/// <summary>The cached price in force (Redis tariff:{region}, JSON).</summary>
public sealed record CachedTariff(Guid TariffId, string Region, decimal PricePerKwh, DateTimeOffset EffectiveFrom, string Reason);

public static class TariffReasons
{
    public const string Base = "base";
    public const string LoadBased = "load-based";
    public const string AdminOverride = "admin-override";
    public const string System = "system";
}
