using SmartGrid.Domain.Grid;
using SmartGrid.Domain.PowerQuality;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.PowerQuality;

/// <summary>A sag, swell or interruption; <c>end</c> null while it lasts.</summary>
public sealed record VoltageEventView(string MeterId, VoltageEventKind Kind, DateTimeOffset Start, DateTimeOffset? End, double? DurationSeconds,
    double ExtremeVoltage, double NominalVoltage)
{
    public static VoltageEventView Of(VoltageEvent e) =>
        new(e.MeterId, e.Kind, e.Start, e.End, (e.End - e.Start)?.TotalSeconds, e.ExtremeVoltage, e.NominalVoltage);
}

/// <summary>One 10-minute voltage window (voltage_10m); min and max are null for minutes stored before extremes were kept.</summary>
public sealed record VoltageWindowView(DateTimeOffset WindowStart, DateTimeOffset WindowEnd, int SampleCount, double VoltageMean, double? VoltageMin, double? VoltageMax);

/// <summary>
/// A meter's power quality over [from, to): <c>windows</c> is the count of 10-minute windows with data,
/// the shares are of their means, and <c>compliant</c> is EN 50160's test (null without windows).
/// </summary>
public sealed record MeterPowerQuality(
    string MeterId, string Region, double NominalVoltage, DateTimeOffset From, DateTimeOffset To,
    int Windows, double? WithinBandShare, double? RangeAShare, bool? Compliant, double? LowestMean, double? HighestMean,
    IReadOnlyList<VoltageEventView> Events, IReadOnlyList<VoltageWindowView> Items);

/// <summary>One meter of a node, as ranked in <see cref="NodePowerQuality.WorstMeters"/>.</summary>
public sealed record MeterPowerQualitySummary(string MeterId, int Windows, double? WithinBandShare, double? RangeAShare, bool? Compliant,
    double? LowestMean, double? HighestMean, int Events);

/// <summary>
/// A node's power quality: the shares over every meter's 10-minute means together, the node
/// compliant when every meter with data is, and its meters worst first (non-compliant, then the
/// lowest share within ±10 %, then the most events).
/// </summary>
public sealed record NodePowerQuality(
    string NodeId, string Level, double NominalVoltage, DateTimeOffset From, DateTimeOffset To,
    int Meters, int CompliantMeters, int Windows, double? WithinBandShare, double? RangeAShare, bool? Compliant,
    IReadOnlyDictionary<VoltageEventKind, int> EventCounts, IReadOnlyList<MeterPowerQualitySummary> WorstMeters,
    IReadOnlyList<VoltageEventView> Events, bool EventsTruncated)
{
    public static NodePowerQuality Of(GridNode node, double nominal, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyList<VoltageWindowRow> windows, IReadOnlyList<VoltageEvent> events, int limit, int maxEvents)
    {
        var eventsByMeter = events.GroupBy(e => e.MeterId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var meters = windows.GroupBy(w => w.MeterId).Select(g =>
        {
            var c = VoltageCompliance.Of(g.Select(w => w.Mean), nominal);
            return new MeterPowerQualitySummary(g.Key, c.Windows, c.WithinBandShare, c.RangeAShare, c.Compliant, c.LowestMean, c.HighestMean,
                eventsByMeter.GetValueOrDefault(g.Key));
        }).ToList();
        var all = VoltageCompliance.Of(windows.Select(w => w.Mean), nominal);
        var worst = meters.OrderBy(m => m.Compliant == true).ThenBy(m => m.WithinBandShare).ThenByDescending(m => m.Events)
            .ThenBy(m => m.MeterId, StringComparer.Ordinal).Take(limit).ToArray();
        var counts = Enum.GetValues<VoltageEventKind>().ToDictionary(k => k, k => events.Count(e => e.Kind == k));
        return new NodePowerQuality(node.Id, node.Kind.Name(), nominal, from, to, meters.Count, meters.Count(m => m.Compliant == true), all.Windows,
            all.WithinBandShare, all.RangeAShare, meters.Count == 0 ? null : meters.All(m => m.Compliant == true),
            counts, worst, events.Take(maxEvents).Select(VoltageEventView.Of).ToArray(), events.Count > maxEvents);
    }
}
