using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// What the aggregate tables must hold for a stream of readings, computed here from first
/// principles and independently of the production code: per meter, in arrival order, a reading
/// is a duplicate if its timestamp was seen, too late if its minute ended more than the allowed
/// lateness before the watermark, the second-newest timestamp counted (one reading alone never
/// moves it); the rest are counted, once, in their windows.
/// </summary>
public sealed class GroundTruth
{
    public sealed record Row(string MeterId, string Region, DateTimeOffset WindowStart, int Count, double EnergySum, double PowerSum,
        double PowerMin, double PowerMax, double VoltageSum, double CurrentSum);

    public sealed record RegionalRow(string Region, DateTimeOffset WindowStart, int MeterCount, int ReadingCount, double TotalPowerKw, double EnergySum);

    public Dictionary<(string Meter, DateTimeOffset Start), Row> OneMinute { get; } = [];
    public Dictionary<(string Meter, DateTimeOffset Start), Row> FifteenMinutes { get; } = [];
    /// <summary>voltage_10m: per meter and 10-minute bucket the count, sum, min and max of the accepted voltages.</summary>
    public Dictionary<(string Meter, DateTimeOffset Start), (int Count, double Sum, double Min, double Max)> Voltage10m { get; } = [];

    /// <summary>
    /// voltage_events by (meter, start): a run of readings outside 90–110 % of 230 V, fed only by a meter's
    /// accepted readings newer than all it accepted before; a low run is an interruption if it went below 5 %. One still
    /// open holds what it was written with: its start, or the reading that turned a sag into an interruption.
    /// </summary>
    public Dictionary<(string Meter, DateTimeOffset Start), (string Kind, DateTimeOffset? End, double Extreme)> VoltageEvents { get; } = [];

    /// <summary>
    /// customer_interruptions by (meter, start), fed by the same readings as the runs: one starts at a reading
    /// below 5 % of 230 V, or, when the gap to the previous such reading is more than twice the gap before it,
    /// at the previous reading plus that earlier gap; it ends at the first reading above 90 %.
    /// </summary>
    public Dictionary<(string Meter, DateTimeOffset Start), (string StartedBy, DateTimeOffset? End)> Interruptions { get; } = [];

    /// <summary>The tree the meters hang on, when the scenario placed them on one: grid_node_aggregates_1m / _15m are compared then.</summary>
    public Tree? Placed { get; set; }

    public int Accepted { get; private set; }
    public int Duplicates { get; private set; }
    public int TooLate { get; private set; }

    public static GroundTruth Of(IEnumerable<TelemetryReading> arrivalOrder, TimeSpan lateness)
    {
        var truth = new GroundTruth();
        var seen = new Dictionary<string, HashSet<DateTimeOffset>>();
        var newest = new Dictionary<string, (DateTimeOffset First, DateTimeOffset Second)>();
        var runs = new Dictionary<string, (int Side, DateTimeOffset Start, double Extreme)>();
        var outages = new Dictionary<string, (DateTimeOffset Last, TimeSpan Gap, DateTimeOffset? OpenSince)>();
        foreach (var r in arrivalOrder)
        {
            var meterSeen = seen.TryGetValue(r.MeterId, out var s) ? s : seen[r.MeterId] = [];
            if (meterSeen.Contains(r.Timestamp)) { truth.Duplicates++; continue; }
            var minuteStart = Floor(r.Timestamp, TimeSpan.FromMinutes(1));
            if (!newest.TryGetValue(r.MeterId, out var top)) top = (DateTimeOffset.MinValue, DateTimeOffset.MinValue);
            if (top.Second != DateTimeOffset.MinValue && top.Second >= minuteStart + TimeSpan.FromMinutes(1) + lateness)
            {
                truth.TooLate++;
                continue;
            }
            meterSeen.Add(r.Timestamp);
            if (r.Timestamp > top.First)
            {
                truth.Run(runs, r);
                truth.Outage(outages, r);
            }
            var two = new[] { top.First, top.Second, r.Timestamp }.OrderDescending().ToArray();
            newest[r.MeterId] = (two[0], two[1]);
            truth.Accepted++;
            Add(truth.OneMinute, r, minuteStart);
            Add(truth.FifteenMinutes, r, Floor(r.Timestamp, TimeSpan.FromMinutes(15)));
            var bucket = (r.MeterId, Floor(r.Timestamp, TimeSpan.FromMinutes(10)));
            truth.Voltage10m[bucket] = truth.Voltage10m.TryGetValue(bucket, out var v)
                ? (v.Count + 1, v.Sum + r.Voltage, Math.Min(v.Min, r.Voltage), Math.Max(v.Max, r.Voltage))
                : (1, r.Voltage, r.Voltage, r.Voltage);
        }
        return truth;
    }

    private void Run(Dictionary<string, (int Side, DateTimeOffset Start, double Extreme)> runs, TelemetryReading r)
    {
        const double nominal = 230;
        var side = r.Voltage < 0.9 * nominal ? -1 : r.Voltage > 1.1 * nominal ? 1 : 0;
        var open = runs.TryGetValue(r.MeterId, out var run) && run.Side != 0;
        if (open && side == run.Side)
        {
            var kindBefore = Kind(run.Side, run.Extreme);
            run.Extreme = side < 0 ? Math.Min(run.Extreme, r.Voltage) : Math.Max(run.Extreme, r.Voltage);
            runs[r.MeterId] = run;
            // An open run is written when it starts and when a sag turns into an interruption, not at every new extreme.
            if (Kind(run.Side, run.Extreme) != kindBefore)
                VoltageEvents[(r.MeterId, run.Start)] = (Kind(run.Side, run.Extreme), null, run.Extreme);
            return;
        }
        if (open)
            VoltageEvents[(r.MeterId, run.Start)] = (Kind(run.Side, run.Extreme), r.Timestamp, run.Extreme);
        runs[r.MeterId] = (side, r.Timestamp, r.Voltage);
        if (side != 0)
            VoltageEvents[(r.MeterId, r.Timestamp)] = (Kind(side, r.Voltage), null, r.Voltage);

        static string Kind(int side, double extreme) => side > 0 ? "swell" : extreme < 0.05 * nominal ? "interruption" : "sag";
    }

    private void Outage(Dictionary<string, (DateTimeOffset Last, TimeSpan Gap, DateTimeOffset? OpenSince)> outages, TelemetryReading r)
    {
        const double nominal = 230;
        if (!outages.TryGetValue(r.MeterId, out var o))
        {
            if (r.Voltage < 0.05 * nominal) Interruptions[(r.MeterId, r.Timestamp)] = ("last-gasp", null);
            outages[r.MeterId] = (r.Timestamp, TimeSpan.Zero, r.Voltage < 0.05 * nominal ? r.Timestamp : null);
            return;
        }
        var gap = r.Timestamp - o.Last;
        var open = o.OpenSince;
        if (open is null && o.Gap > TimeSpan.Zero && gap > 2 * o.Gap)
        {
            open = o.Last + o.Gap;
            Interruptions[(r.MeterId, open.Value)] = ("silence", null);
        }
        if (open is { } since && r.Voltage > 0.9 * nominal)
        {
            Interruptions[(r.MeterId, since)] = (Interruptions[(r.MeterId, since)].StartedBy, r.Timestamp);
            open = null;
        }
        else if (open is null && r.Voltage < 0.05 * nominal)
        {
            open = r.Timestamp;
            Interruptions[(r.MeterId, r.Timestamp)] = ("last-gasp", null);
        }
        outages[r.MeterId] = (r.Timestamp, gap, open);
    }

    /// <summary>A grid node's window: grid_node_aggregates_1m / _15m.</summary>
    public sealed record NodeRow(string NodeId, DateTimeOffset WindowStart, int MeterCount, int ExpectedMeters, double TotalPowerKw, double LoadPercent);

    /// <summary>
    /// A tree placed before the stream and never changed: meter → transformer, transformer → (feeder, region, rating),
    /// feeder → rating.
    /// </summary>
    public sealed record Tree(IReadOnlyDictionary<string, string> TransformerOf,
        IReadOnlyDictionary<string, (string Feeder, string Region, double RatedKw)> Transformers, IReadOnlyDictionary<string, double> Feeders);

    /// <summary>
    /// The node windows published with each regional window: per region window, every transformer of the region with meters
    /// placed under it (those of them with a row there counted, their average powers summed), and each feeder as the sum of
    /// its transformers.
    /// </summary>
    public static IReadOnlyList<NodeRow> Nodes(Dictionary<(string Meter, DateTimeOffset Start), Row> meterRows, Tree tree)
    {
        var rows = new List<NodeRow>();
        foreach (var window in meterRows.Values.GroupBy(r => (r.Region, r.WindowStart)))
        {
            var feeders = new Dictionary<string, (int Meters, int Expected, double Kw)>();
            foreach (var (transformer, (feeder, region, rated)) in tree.Transformers.Where(t => t.Value.Region == window.Key.Region))
            {
                var under = window.Where(r => tree.TransformerOf.GetValueOrDefault(r.MeterId) == transformer).ToList();
                var expected = tree.TransformerOf.Count(m => m.Value == transformer);
                var kw = under.Sum(r => r.PowerSum / r.Count);
                rows.Add(new NodeRow(transformer, window.Key.WindowStart, under.Count, expected, kw, kw / rated * 100));
                var f = feeders.GetValueOrDefault(feeder);
                feeders[feeder] = (f.Meters + under.Count, f.Expected + expected, f.Kw + kw);
            }
            rows.AddRange(feeders.Select(f => new NodeRow(f.Key, window.Key.WindowStart, f.Value.Meters, f.Value.Expected, f.Value.Kw,
                f.Value.Kw / tree.Feeders[f.Key] * 100)));
        }
        return rows;
    }

    public static IReadOnlyList<RegionalRow> Regional(Dictionary<(string Meter, DateTimeOffset Start), Row> meterRows) =>
        meterRows.Values.GroupBy(r => (r.Region, r.WindowStart))
            .Select(g => new RegionalRow(g.Key.Region, g.Key.WindowStart, g.Count(), g.Sum(r => r.Count),
                g.Sum(r => r.PowerSum / r.Count), g.Sum(r => r.EnergySum)))
            .ToList();

    private static void Add(Dictionary<(string, DateTimeOffset), Row> rows, TelemetryReading r, DateTimeOffset start)
    {
        var key = (r.MeterId, start);
        rows[key] = rows.TryGetValue(key, out var row)
            ? row with
            {
                Count = row.Count + 1, EnergySum = row.EnergySum + r.EnergyKwh, PowerSum = row.PowerSum + r.PowerKw,
                PowerMin = Math.Min(row.PowerMin, r.PowerKw), PowerMax = Math.Max(row.PowerMax, r.PowerKw),
                VoltageSum = row.VoltageSum + r.Voltage, CurrentSum = row.CurrentSum + r.Current,
            }
            : new Row(r.MeterId, r.Region!, start, 1, r.EnergyKwh, r.PowerKw, r.PowerKw, r.PowerKw, r.Voltage, r.Current);
    }

    private static DateTimeOffset Floor(DateTimeOffset t, TimeSpan size) =>
        new(t.UtcTicks - t.UtcTicks % size.Ticks, TimeSpan.Zero);

    public static bool Close(double expected, double actual) =>
        Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(expected), Math.Abs(actual)));
}
