using SmartGrid.Domain.Grid;

namespace SmartGrid.Gateway;

/// <summary>The grid's regions by name (configuration SmartGrid:Regions, else the defaults).</summary>
public sealed class GatewayRegions(IReadOnlyList<string> names)
{
    public IReadOnlyList<string> Names { get; } = names;

    public bool IsKnown(string region) => Names.Contains(region, StringComparer.Ordinal);

    public static GatewayRegions From(IConfiguration configuration)
    {
        var configured = configuration.GetSection("SmartGrid:Regions").Get<List<RegionSpec>>();
        var names = configured is { Count: > 0 } ? configured.Select(r => r.Name) : Regions.Defaults.Select(r => r.Name);
        return new GatewayRegions(names.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.Ordinal).ToArray());
    }
}
