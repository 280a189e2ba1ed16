using System.Text.Json.Serialization;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Grid;

/// <summary>A feeder or a transformer as the load windows need it: where it hangs and what it is rated for.</summary>
public sealed record GridNodeRating(string Id, GridNodeKind Kind, string Region, string ParentId, double RatedKw);

/// <summary>A meter under a transformer during [<see cref="ValidFrom"/>, <see cref="ValidTo"/>); ValidTo null while it is still there.</summary>
public sealed record PlacementSpan(string MeterId, string TransformerId, DateTimeOffset ValidFrom, DateTimeOffset? ValidTo)
{
    public bool Covers(DateTimeOffset at) => ValidFrom <= at && (ValidTo is null || at < ValidTo);
}

/// <summary>
/// The grid below the regions at one moment, as a node last loaded it (meter_placements and grid_nodes): what a region's
/// actor sums its meters' windows by, per transformer and feeder (<see cref="LoadOf"/>). Immutable; replaced whole on reload.
/// </summary>
public sealed class GridLayout
{
    private readonly Dictionary<string, PlacementSpan[]> _byMeter;
    private readonly Dictionary<string, PlacementSpan[]> _byTransformer;
    private readonly Dictionary<string, GridNodeRating[]> _transformersByRegion;
    private readonly Dictionary<string, GridNodeRating> _feeders;

    public GridLayout(IEnumerable<GridNodeRating> nodes, IEnumerable<PlacementSpan> placements, DateTimeOffset loadedAt)
    {
        var all = nodes.ToList();
        var spans = placements.ToList();
        _byMeter = spans.GroupBy(p => p.MeterId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _byTransformer = spans.GroupBy(p => p.TransformerId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _transformersByRegion = all.Where(n => n.Kind == GridNodeKind.Transformer).GroupBy(n => n.Region, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.OrderBy(n => n.Id, StringComparer.Ordinal).ToArray(), StringComparer.OrdinalIgnoreCase);
        _feeders = all.Where(n => n.Kind == GridNodeKind.Feeder).ToDictionary(n => n.Id, StringComparer.Ordinal);
        LoadedAt = loadedAt;
    }

    public static GridLayout Empty { get; } = new([], [], DateTimeOffset.MinValue);

    public DateTimeOffset LoadedAt { get; }

    /// <summary>
    /// The load of each transformer and feeder of <paramref name="region"/> in one window: per node, the sum of the average
    /// power of the meters placed under it at the window's start that reported into it (<c>meter_count</c>) and how many
    /// were placed there (<c>expected_meters</c>). A node with nobody placed under it then is left out; one whose meters
    /// all fell silent is not (0 kW of its expected meters). Each meter window may appear once (its newest revision).
    /// </summary>
    public IReadOnlyList<GridNodeAggregate> LoadOf(string region, WindowSize size, DateTimeOffset windowStart, IEnumerable<WindowAggregate> meterWindows)
    {
        ArgumentNullException.ThrowIfNull(meterWindows);
        if (!_transformersByRegion.TryGetValue(region, out var transformers))
            return [];
        var reported = new Dictionary<string, (int Meters, double Kw)>(StringComparer.Ordinal);
        foreach (var w in meterWindows)
        {
            if (w.IsEmpty || !_byMeter.TryGetValue(w.MeterId, out var spans) || spans.FirstOrDefault(p => p.Covers(windowStart)) is not { } placed)
                continue;
            var sum = reported.GetValueOrDefault(placed.TransformerId);
            reported[placed.TransformerId] = (sum.Meters + 1, sum.Kw + w.PowerKwAvg);
        }
        var result = new List<GridNodeAggregate>();
        var feeders = new Dictionary<string, (int Meters, int Expected, double Kw)>(StringComparer.Ordinal);
        foreach (var t in transformers)
        {
            var expected = _byTransformer.TryGetValue(t.Id, out var spans) ? spans.Count(p => p.Covers(windowStart)) : 0;
            var (meters, kw) = reported.GetValueOrDefault(t.Id);
            if (expected == 0 && meters == 0)
                continue;
            result.Add(GridNodeAggregate.Of(t, size, windowStart, meters, expected, kw));
            var f = feeders.GetValueOrDefault(t.ParentId);
            feeders[t.ParentId] = (f.Meters + meters, f.Expected + expected, f.Kw + kw);
        }
        foreach (var (id, f) in feeders.OrderBy(f => f.Key, StringComparer.Ordinal))
            if (_feeders.TryGetValue(id, out var feeder))
                result.Add(GridNodeAggregate.Of(feeder, size, windowStart, f.Meters, f.Expected, f.Kw));
        return result;
    }
}

/// <summary>
/// A transformer's or feeder's load over one window: a row of grid_node_aggregates_1m / _15m and a message on the
/// grid_node_aggregates topic. Load is of the node's rating when the window was published.
/// </summary>
public sealed record GridNodeAggregate
{
    [JsonPropertyName("node_id")] public required string NodeId { get; init; }
    [JsonPropertyName("kind")] public required GridNodeKind Kind { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("window_size")] public required WindowSize Size { get; init; }
    [JsonPropertyName("window_start")] public required DateTimeOffset WindowStart { get; init; }
    [JsonPropertyName("window_end")] public DateTimeOffset WindowEnd => WindowStart + Size.Duration();
    /// <summary>Meters placed under the node at the window's start that reported into it.</summary>
    [JsonPropertyName("meter_count")] public required int MeterCount { get; init; }
    /// <summary>Meters placed under the node at the window's start.</summary>
    [JsonPropertyName("expected_meters")] public required int ExpectedMeters { get; init; }
    /// <summary>Sum of the reporting meters' average power in the window.</summary>
    [JsonPropertyName("total_power_kw")] public required double TotalPowerKw { get; init; }
    [JsonPropertyName("rated_kw")] public required double RatedKw { get; init; }
    [JsonPropertyName("load_percent")] public required double LoadPercent { get; init; }

    public static GridNodeAggregate Of(GridNodeRating node, WindowSize size, DateTimeOffset windowStart, int meters, int expected, double totalKw) => new()
    {
        NodeId = node.Id, Kind = node.Kind, Region = node.Region, Size = size, WindowStart = windowStart.ToUniversalTime(),
        MeterCount = meters, ExpectedMeters = expected, TotalPowerKw = totalKw, RatedKw = node.RatedKw,
        LoadPercent = RegionalLoad.LoadPercent(totalKw, node.RatedKw),
    };
}
