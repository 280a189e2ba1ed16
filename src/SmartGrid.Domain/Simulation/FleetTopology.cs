using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Simulation;

/// <summary>Where the simulator hangs one of its meters, with the ratings that create the nodes on first import.</summary>
public sealed record SimulatedPlacement(string MeterId, string TransformerId, string FeederId, string Region, double TransformerRatedKw, double FeederRatedKw);

/// <summary>
/// The simulated fleet's grid: per region, its meters (in index order) on transformers of 20–60
/// meters, the transformers on feeders of 10–30, drawn from the fleet's seed, so a seed always
/// builds the same tree. A transformer is rated for 55–85 % of its meters' summed peaks (customers
/// do not peak together; some transformers run hot), a feeder for 80 % of its transformers' ratings.
/// </summary>
public static class FleetTopology
{
    public const int MinMetersPerTransformer = 20;
    public const int MaxMetersPerTransformer = 60;
    public const int MinTransformersPerFeeder = 10;
    public const int MaxTransformersPerFeeder = 30;

    /// <summary>
    /// The placements start here, before any reading a simulator sends (backfills included), so
    /// re-importing the tree at every start finds every line unchanged.
    /// </summary>
    public static readonly DateTimeOffset PlacedFrom = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const ulong TreeSalt = 0x74726565; // "tree"

    public static IReadOnlyList<SimulatedPlacement> Of(MeterFleet fleet)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        var placements = new List<SimulatedPlacement>(fleet.Meters.Count);
        var regions = fleet.Options.Regions.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToArray();
        for (var r = 0; r < regions.Length; r++)
        {
            var region = regions[r];
            var meters = fleet.Meters.Where(m => m.Region == region).ToArray();
            var random = DeterministicRandom.For(fleet.Options.Seed, r, 0, TreeSalt);
            var transformers = Chunks(meters, Split(meters.Length, MinMetersPerTransformer, MaxMetersPerTransformer, ref random));
            var code = Code(region);
            var start = 0;
            var feederNumber = 0;
            foreach (var feederSize in Split(transformers.Count, MinTransformersPerFeeder, MaxTransformersPerFeeder, ref random))
            {
                feederNumber++;
                var feeder = transformers.Skip(start).Take(feederSize).ToArray();
                start += feederSize;
                var ratings = feeder.Select(t => RoundUp(t.Sum(m => m.PeakKw) * random.Next(0.55, 0.85), 5)).ToArray();
                var feederRating = RoundUp(ratings.Sum() * 0.8, 50);
                var feederId = $"FD-{code}-{feederNumber:D2}";
                for (var t = 0; t < feeder.Length; t++)
                {
                    var transformerId = $"TR-{code}-{feederNumber:D2}-{t + 1:D2}";
                    placements.AddRange(feeder[t].Select(m => new SimulatedPlacement(m.MeterId, transformerId, feederId, region, ratings[t], feederRating)));
                }
            }
        }
        return placements;
    }

    /// <summary>
    /// Sizes from [min, max] that add up to <paramref name="total"/>; the last two bend so no part is
    /// below min (a total under min is one part).
    /// </summary>
    private static List<int> Split(int total, int min, int max, ref DeterministicRandom random)
    {
        var sizes = new List<int>();
        var left = total;
        while (left > 0)
        {
            var size = (int)Math.Floor(random.Next(min, max + 1));
            if (left - size < min)
                size = left <= max ? left : left - min;
            sizes.Add(size);
            left -= size;
        }
        return sizes;
    }

    private static List<SimulatedMeter[]> Chunks(SimulatedMeter[] meters, List<int> sizes)
    {
        var chunks = new List<SimulatedMeter[]>(sizes.Count);
        var start = 0;
        foreach (var size in sizes)
        {
            chunks.Add(meters[start..(start + size)]);
            start += size;
        }
        return chunks;
    }

    /// <summary>A region's name as it appears in its node ids: letters and digits upper-cased, anything else a dash, at most 32.</summary>
    private static string Code(string region)
    {
        var code = new string(region.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '-').ToArray());
        return code.Length <= 32 ? code : code[..32];
    }

    private static double RoundUp(double value, double step) => Math.Max(step, Math.Ceiling(value / step) * step);
}
