using SmartGrid.Storage;

namespace SmartGrid.Gateway;

/// <summary>
/// The grid's regions as the gateway sees them: the regions table, through the node's
/// <see cref="RegionCatalog"/> (reloaded every <see cref="RegionCatalog.RefreshInterval"/>).
/// Writes take a region's canonical name only; read routes accept any case (<see cref="Canonical"/>).
/// </summary>
public sealed class GatewayRegions(RegionCatalog catalog)
{
    /// <summary>Active regions, by name.</summary>
    public IReadOnlyList<string> Names => Loaded.Active.Select(r => r.Name).ToArray();

    /// <summary>Whether <paramref name="region"/> is an active region, spelled as stored.</summary>
    public bool IsKnown(string region) => Loaded.FindActive(region) is { } found && found.Name == region;

    /// <summary>The stored spelling of <paramref name="region"/> (any case, retired ones too: their history is still read), or null.</summary>
    public string? Canonical(string region) => Loaded.Find(region)?.Name;

    /// <summary>The region's nominal voltage (power quality is judged against it); the default for a region the table does not know.</summary>
    public double NominalVoltage(string region) => Loaded.Find(region)?.Spec.NominalVoltage ?? Domain.Grid.Regions.DefaultNominalVoltage;

    /// <summary>The region's capacity in kW (its substation's rating), 0 for a region the table does not know.</summary>
    public double CapacityKw(string region) => Loaded.Find(region)?.Spec.CapacityKw ?? 0;

    /// <summary>
    /// The catalog, loaded now if it never was (the node started while PostgreSQL was down): the
    /// load's failure then reaches <see cref="Http.DatabaseOutageFilter"/>, which answers from the
    /// stale cache, instead of a route answering as if there were no regions.
    /// </summary>
    private RegionSet Loaded => catalog.Current is { LoadedAt.Ticks: > 0 } current
        ? current
        : catalog.RefreshAsync().GetAwaiter().GetResult();
}
