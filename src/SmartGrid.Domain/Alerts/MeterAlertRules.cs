namespace SmartGrid.Domain.Alerts;

/// <summary>
/// The rules of per-meter alerts besides their raising (which the pipeline's anomaly detector and the
/// silence count do): when an ANOMALY is over, which silent meter may raise an OUTAGE, and when so many
/// of a region's meters are in trouble at once that they are one regional incident ("storm mode").
/// Values come from SmartGrid:Services:Alerts (AlertSettings), where their defaults live.
/// </summary>
/// <param name="AnomalyClearWindows">In-band 1-minute windows after the last anomalous one that end an ANOMALY.</param>
/// <param name="CadenceWindows">1-minute windows a meter must have reported (in the outage lookback) before its silence counts.</param>
/// <param name="StormShare">A region is in a storm when more than this share of its registered meters went silent or dropped together.</param>
/// <param name="StormSpan">"Together": the meters' troubles began within this span of each other.</param>
public sealed record MeterAlertPolicy(int AnomalyClearWindows, int CadenceWindows, double StormShare, TimeSpan StormSpan)
{
    /// <summary>One meter alone is never a storm, whatever the share: it has its own alert.</summary>
    public const int MinStormMeters = 2;

    /// <summary>
    /// True once the meter reported <see cref="AnomalyClearWindows"/> windows after its last anomalous one: each of them
    /// was checked by the detector against the baseline and raised nothing, so it was within the band.
    /// </summary>
    public bool IsAnomalyOver(int windowsSinceLastAnomaly) => windowsSinceLastAnomaly >= AnomalyClearWindows;

    /// <summary>A meter seen once (or a few times) has no cadence to miss: its silence is not an outage.</summary>
    public bool HasCadence(int windowsReported) => windowsReported >= CadenceWindows;

    /// <summary>More than the share of the region's meters, and at least <see cref="MinStormMeters"/>.</summary>
    public bool IsStorm(int affected, int registered) => affected >= MinStormMeters && affected > StormShare * registered;
}

/// <summary>Why a meter counts towards a storm.</summary>
public enum MeterTrouble
{
    /// <summary>Silent long enough for an OUTAGE, with an established cadence.</summary>
    Silent = 1,

    /// <summary>An open ANOMALY of kind drop.</summary>
    Drop = 2,
}

/// <summary>A meter in trouble, and since when (its last window's end when silent, its first drop window when dropping).</summary>
public sealed record AffectedMeter(string MeterId, MeterTrouble Trouble, DateTimeOffset Since);

/// <summary>A region's open INCIDENT alert: the meters it lists.</summary>
public sealed record OpenIncident(Guid AlertId, IReadOnlyList<string> MeterIds);

/// <summary>What <see cref="RegionStorm.Decide"/> found for one region.</summary>
public interface IRegionStormEvent;

/// <summary>Too many meters went silent or dropped together: raise one regional incident listing them.</summary>
public sealed record IncidentOpened(string Region, IReadOnlyList<AffectedMeter> Meters, int RegisteredMeters) : IRegionStormEvent;

/// <summary>More of the region's meters (<paramref name="Joined"/>) got into trouble during the open incident: list them too.</summary>
public sealed record IncidentGrew(string Region, Guid AlertId, IReadOnlyList<AffectedMeter> Joined, int RegisteredMeters) : IRegionStormEvent;

/// <summary>None of the incident's meters is in trouble any more: resolve it.</summary>
public sealed record IncidentCleared(string Region, Guid AlertId) : IRegionStormEvent;

/// <summary>
/// Storm mode of one region, decided from what an outage check sees: the meters in trouble now, the registered meters,
/// and the region's open incident. Pure; the AlertManager reads the inputs from the store and carries out the outcome.
/// </summary>
public static class RegionStorm
{
    public static IRegionStormEvent? Decide(string region, int registeredMeters, IReadOnlyList<AffectedMeter> affected, OpenIncident? open,
        MeterAlertPolicy policy)
    {
        if (open is not null)
        {
            var listed = open.MeterIds.ToHashSet(StringComparer.Ordinal);
            if (!affected.Any(m => listed.Contains(m.MeterId)))
                return new IncidentCleared(region, open.AlertId);
            // Once a region is in a storm, every meter that gets into trouble during it belongs to it.
            var joined = Distinct(affected.Where(m => !listed.Contains(m.MeterId)));
            return joined.Count == 0 ? null : new IncidentGrew(region, open.AlertId, joined, registeredMeters);
        }

        var together = LargestTogether(Distinct(affected), policy.StormSpan);
        return policy.IsStorm(together.Count, registeredMeters) ? new IncidentOpened(region, together, registeredMeters) : null;
    }

    /// <summary>A meter both silent and dropping counts once, by its earlier trouble.</summary>
    private static List<AffectedMeter> Distinct(IEnumerable<AffectedMeter> affected) =>
        affected.GroupBy(m => m.MeterId, StringComparer.Ordinal).Select(g => g.MinBy(m => m.Since)!).OrderBy(m => m.Since)
            .ThenBy(m => m.MeterId, StringComparer.Ordinal).ToList();

    /// <summary>The most meters whose troubles began within <paramref name="span"/> of each other (the earliest such group).</summary>
    private static List<AffectedMeter> LargestTogether(List<AffectedMeter> bySince, TimeSpan span)
    {
        var (bestFrom, bestCount, from) = (0, 0, 0);
        for (var to = 0; to < bySince.Count; to++)
        {
            while (bySince[to].Since - bySince[from].Since > span) from++;
            if (to - from + 1 > bestCount) (bestFrom, bestCount) = (from, to - from + 1);
        }

        return bySince.GetRange(bestFrom, bestCount);
    }
}
