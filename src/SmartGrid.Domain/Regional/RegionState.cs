using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Regional;

/// <summary>Persisted by a region: its meters' published windows from one projection batch, newest revision each.</summary>
public sealed record MeterWindowsReceived(string Region, IReadOnlyList<EmittedWindow> Windows, DateTimeOffset ReceivedAt);

/// <summary>Persisted by a region: regional aggregates ready to publish (revision 1, more when a late meter window amends one).</summary>
public sealed record RegionalWindowsEmitted(string Region, IReadOnlyList<EmittedRegionalWindow> Windows);

/// <summary>
/// A regional window ready to publish, with the load of each transformer and feeder of the region in the same window and
/// revision (null for a region without a tree, and in events written before node windows existed: the JSON field is optional).
/// </summary>
public sealed record EmittedRegionalWindow(RegionalAggregate Aggregate, int Revision, IReadOnlyList<GridNodeAggregate>? Nodes = null);

/// <summary>
/// One region's open regional windows (1-minute for overload, 15-minute for storage and
/// tariffs), each the sum of its meters' latest window revisions. A regional window is published
/// once a meter window of a later period arrives (the meters have moved on) or the region goes
/// idle; a meter window arriving after that amends it with a new revision. A window is forgotten
/// only when it is both old in event time (retention behind the region's watermark) and
/// untouched for a while by the wall clock: in a fast replay, partitions drift apart by far more
/// event time than live traffic ever does, and their meters' windows must still meet here.
/// </summary>
public sealed class RegionState
{
    private readonly Dictionary<(WindowSize Size, DateTimeOffset Start), Slot> _windows = [];

    public RegionState(string region) => Region = region;

    public string Region { get; }
    /// <summary>Latest window end seen per size.</summary>
    public Dictionary<WindowSize, DateTimeOffset> Watermarks { get; } = [];
    public long LateWindowsDropped { get; private set; }
    /// <summary>Wall-clock time of the newest batch received (persisted, so recovery forgets exactly the same windows).</summary>
    public DateTimeOffset LastReceivedAt { get; private set; }

    public bool HasUnemittedWindows => _windows.Values.Any(s => s.Dirty);

    /// <summary>Meter windows held over all regional windows: the size of a snapshot.</summary>
    public int MeterWindowCount => _windows.Values.Sum(s => s.Meters.Count);

    /// <summary>Keeps only meter windows newer than what the region already holds, so a redelivered batch changes nothing.</summary>
    public MeterWindowsReceived? Decide(IEnumerable<EmittedWindow> windows, DateTimeOffset now)
    {
        var fresh = EmittedWindow.NewestRevisions(windows)
            .Where(w => !_windows.TryGetValue((w.Aggregate.Size, w.Aggregate.WindowStart), out var slot)
                        || !slot.Meters.TryGetValue(w.Aggregate.MeterId, out var known) || known.Revision < w.Revision)
            .ToList();
        return fresh.Count == 0 ? null : new MeterWindowsReceived(Region, fresh, now);
    }

    public void Apply(MeterWindowsReceived e, RegionPolicy policy)
    {
        if (e.ReceivedAt > LastReceivedAt) LastReceivedAt = e.ReceivedAt;
        foreach (var w in e.Windows)
        {
            var a = w.Aggregate;
            if (Watermarks.TryGetValue(a.Size, out var mark) && a.WindowEnd + policy.Retention < mark && !_windows.ContainsKey((a.Size, a.WindowStart)))
            {
                LateWindowsDropped++;
                continue;
            }
            var key = (a.Size, a.WindowStart);
            if (!_windows.TryGetValue(key, out var slot)) _windows[key] = slot = new Slot(a.Size, a.WindowStart, a.WindowEnd);
            slot.Meters[a.MeterId] = w;
            slot.Dirty = true;
            slot.TouchedAt = e.ReceivedAt;
            if (!Watermarks.TryGetValue(a.Size, out mark) || a.WindowEnd > mark) Watermarks[a.Size] = a.WindowEnd;
        }
    }

    /// <summary>
    /// Regional windows to publish now: those the meters have moved past, or all of them when idle; each with its
    /// transformers' and feeders' load as <paramref name="grid"/> places the meters at the window's start.
    /// </summary>
    public RegionalWindowsEmitted? DecideEmission(bool idle, double capacityKw, GridLayout? grid = null)
    {
        var ready = _windows.Values
            .Where(s => s.Dirty && (idle || (Watermarks.TryGetValue(s.Size, out var mark) && mark > s.End)))
            .OrderBy(s => s.Size).ThenBy(s => s.Start)
            .Select(s => new EmittedRegionalWindow(s.Aggregate(Region, capacityKw), s.Revision + 1, s.Nodes(Region, grid)))
            .ToList();
        return ready.Count == 0 ? null : new RegionalWindowsEmitted(Region, ready);
    }

    public void Apply(RegionalWindowsEmitted e, RegionPolicy policy)
    {
        foreach (var w in e.Windows)
            if (_windows.TryGetValue((w.Aggregate.Size, w.Aggregate.WindowStart), out var slot))
            {
                slot.Revision = w.Revision;
                slot.Dirty = false;
            }
        foreach (var (key, slot) in _windows.ToList())
            if (!slot.Dirty && Watermarks.TryGetValue(slot.Size, out var mark) && slot.End + policy.Retention < mark
                && slot.TouchedAt + policy.QuietTime < LastReceivedAt)
                _windows.Remove(key);
    }

    public RegionSnapshot ToSnapshot() => new(Region, LateWindowsDropped, LastReceivedAt,
        Watermarks.Select(kv => new RegionSnapshot.Mark(kv.Key, kv.Value)).ToArray(),
        _windows.Values.Select(s => new RegionSnapshot.Window(s.Size, s.Start, s.End, s.Revision, s.Dirty, s.TouchedAt, s.Meters.Values.ToArray())).ToArray());

    public static RegionState FromSnapshot(RegionSnapshot s)
    {
        var state = new RegionState(s.Region) { LateWindowsDropped = s.LateWindowsDropped, LastReceivedAt = s.LastReceivedAt };
        foreach (var m in s.Watermarks) state.Watermarks[m.Size] = m.End;
        foreach (var w in s.Windows)
        {
            var slot = new Slot(w.Size, w.Start, w.End) { Revision = w.Revision, Dirty = w.Dirty, TouchedAt = w.TouchedAt };
            foreach (var m in w.Meters) slot.Meters[m.Aggregate.MeterId] = m;
            state._windows[(w.Size, w.Start)] = slot;
        }
        return state;
    }

    private sealed class Slot(WindowSize size, DateTimeOffset start, DateTimeOffset end)
    {
        public WindowSize Size { get; } = size;
        public DateTimeOffset Start { get; } = start;
        public DateTimeOffset End { get; } = end;
        public Dictionary<string, EmittedWindow> Meters { get; } = [];
        public int Revision { get; set; }
        public bool Dirty { get; set; }
        public DateTimeOffset TouchedAt { get; set; }

        public RegionalAggregate Aggregate(string region, double capacityKw) =>
            RegionalAggregate.From(region, Size, Start, capacityKw, Meters.Values.Select(m => m.Aggregate));

        public IReadOnlyList<GridNodeAggregate>? Nodes(string region, GridLayout? grid) =>
            grid?.LoadOf(region, Size, Start, Meters.Values.Select(m => m.Aggregate)) is { Count: > 0 } nodes ? nodes : null;
    }
}

public sealed record RegionPolicy
{
    /// <summary>How long a published regional window still accepts amendments, behind the region's watermark.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long (wall clock) a window must have gone without news before it may be forgotten.</summary>
    public TimeSpan QuietTime { get; init; } = TimeSpan.FromMinutes(5);
}

public sealed record RegionSnapshot(string Region, long LateWindowsDropped, DateTimeOffset LastReceivedAt, RegionSnapshot.Mark[] Watermarks, RegionSnapshot.Window[] Windows)
{
    public sealed record Mark(WindowSize Size, DateTimeOffset End);
    public sealed record Window(WindowSize Size, DateTimeOffset Start, DateTimeOffset End, int Revision, bool Dirty, DateTimeOffset TouchedAt, EmittedWindow[] Meters);
}
