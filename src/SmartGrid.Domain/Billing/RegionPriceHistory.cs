namespace SmartGrid.Domain.Billing;

/// <summary>One row of a region's price history (tariffs): in force from <see cref="EffectiveFrom"/> until the next one.</summary>
/// <param name="Sequence">Insertion order; breaks ties between rows effective at the same instant.</param>
/// <param name="IsBaseRate">A base-rate row (reason 'base'): the rate percentage overrides apply to.</param>
/// <param name="OverrideId">The override that caused the row (reason 'admin-override').</param>
public sealed record TariffChange(DateTimeOffset EffectiveFrom, long Sequence, decimal PricePerKwh, bool IsBaseRate = false, Guid? OverrideId = null);

/// <summary>An admin override (tariff_overrides): a fixed price, or a percentage on the base rate, in [ValidFrom, ValidTo) unless lifted earlier.</summary>
public sealed record PriceOverride(
    Guid Id, DateTimeOffset ValidFrom, DateTimeOffset ValidTo, DateTimeOffset CreatedAt, decimal? PricePerKwh, decimal? Percentage,
    DateTimeOffset? LiftedAt = null)
{
    /// <summary>valid_to, or the lift when it came first.</summary>
    public DateTimeOffset EndsAt => LiftedAt is { } lifted && lifted < ValidTo ? lifted : ValidTo;

    public bool IsInForceAt(DateTimeOffset time) => ValidFrom <= time && time < EndsAt;
}

/// <summary>The price per kWh in force at an instant, and the override that set it (null: the tariff history).</summary>
public sealed record PriceInForce(decimal PricePerKwh, Guid? OverrideId);

/// <summary>
/// A region's prices over time, as billing needs them: at an instant, an override in force then
/// wins (the newest valid_from, then the newest created, as the TariffManager picks it), priced
/// exactly from its own validity; otherwise the newest tariffs row effective at or before the
/// instant. The TariffManager writes an override's rows when it applies its start and its end
/// (within its check interval, <see cref="ApplyLag"/>); billing uses the override's own validity
/// so that lag stays out of the bill: from the end on, the row the TariffManager wrote for the end
/// counts, or the override's price when it kept it (a change under its publish threshold).
/// </summary>
public sealed class RegionPriceHistory
{
    private readonly TariffChange[] _changes;
    private readonly TariffChange[] _baseRates;
    private readonly PriceOverride[] _overrides;
    private readonly Dictionary<Guid, PriceOverride> _overridesById;

    /// <summary>Rows effective within this long after an override's end are the TariffManager applying that end.</summary>
    public static readonly TimeSpan ApplyLag = TimeSpan.FromMinutes(15);

    public RegionPriceHistory(IEnumerable<TariffChange> changes, IEnumerable<PriceOverride>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(changes);
        _changes = changes.OrderBy(c => c.EffectiveFrom).ThenBy(c => c.Sequence).ToArray();
        _baseRates = _changes.Where(c => c.IsBaseRate).ToArray();
        // TariffManager order: valid_from DESC, created_at DESC, override_id (uuid order = lower-case hex order).
        _overrides = (overrides ?? []).OrderByDescending(o => o.ValidFrom).ThenByDescending(o => o.CreatedAt)
            .ThenBy(o => o.Id.ToString(), StringComparer.Ordinal).ToArray();
        _overridesById = _overrides.ToDictionary(o => o.Id);
        foreach (var o in _overrides)
        {
            if ((o.PricePerKwh is null) == (o.Percentage is null))
                throw new ArgumentException($"override {o.Id} must have either a price or a percentage", nameof(overrides));
        }
    }

    /// <summary>The price in force at <paramref name="time"/>, or null when the region had none yet.</summary>
    public PriceInForce? PriceAt(DateTimeOffset time)
    {
        foreach (var o in _overrides)
        {
            if (!o.IsInForceAt(time))
                continue;
            if (o.PricePerKwh is { } fixedPrice)
                return new PriceInForce(fixedPrice, o.Id);
            // No base rate known at that time: the first one is the best estimate of it.
            var baseIndex = LatestIndex(_baseRates, time);
            var baseRate = baseIndex >= 0 ? _baseRates[baseIndex] : _baseRates.Length > 0 ? _baseRates[0] : null;
            if (baseRate is null)
                continue;
            var price = baseRate.PricePerKwh * (1m + o.Percentage!.Value / 100m);
            return new PriceInForce(Math.Round(price, 4, MidpointRounding.AwayFromZero), o.Id);
        }

        var index = LatestIndex(_changes, time);
        if (index < 0)
            return null;
        var change = _changes[index];
        if (change.OverrideId is { } id && _overridesById.TryGetValue(id, out var ended) && ended.EndsAt <= time
            && index + 1 < _changes.Length && _changes[index + 1].EffectiveFrom <= ended.EndsAt + ApplyLag)
        {
            // The override's row is newest, but the override is over and the TariffManager's row
            // for its end follows within the lag: that price has been in force since the end.
            return new PriceInForce(_changes[index + 1].PricePerKwh, null);
        }

        return new PriceInForce(change.PricePerKwh, null);
    }

    /// <summary>Index of the last of <paramref name="sorted"/> effective at or before <paramref name="time"/>, or -1.</summary>
    private static int LatestIndex(TariffChange[] sorted, DateTimeOffset time)
    {
        int lo = 0, hi = sorted.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (sorted[mid].EffectiveFrom <= time)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }
}
