using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Metering;

/// <summary>
/// Everything one meter owns: its open and amendable 1-minute and 15-minute windows, the
/// timestamps it has seen (de-duplication), its event-time watermark and its baseline.
/// <para>
/// The watermark, which decides when a window is final and when a reading is too late, is the
/// second-newest timestamp the meter has accepted, not the newest: a single reading can never
/// move it on its own. A meter whose clock jumps (one reading stamped minutes ahead) would
/// otherwise close its open windows early and drop the genuine readings that follow as too late.
/// It takes a second reading at or beyond a time to vouch for it, which a healthy meter provides
/// one interval later, so windows close at most one reading later than with the newest. The
/// rule is event time only, never the wall clock nor the readings' ingestion time, so a replay of
/// old days at any speed decides exactly as the live day did; the processing clock bounds readings
/// at the edges instead (ingestion and the Kafka consumer refuse readings stamped more than
/// SmartGrid:Ingestion:MaxClockSkew ahead of the node's clock).
/// </para>
/// <see cref="Decide"/> turns a batch of readings into the events to persist, without touching
/// this instance; <see cref="Apply(ReadingsAccepted)"/> and <see cref="Apply(WindowsEmitted)"/>
/// are the only mutators, so recovery from the journal rebuilds exactly the same state.
/// </summary>
public sealed class MeterState
{
    private static readonly WindowSize[] Sizes = [WindowSize.OneMinute, WindowSize.FifteenMinutes];

    private readonly Dictionary<(WindowSize Size, DateTimeOffset Start), WindowSlot> _windows;
    private readonly HashSet<long> _seen;

    public MeterState(string meterId)
        : this(meterId, Domain.Grid.Regions.Unassigned, DateTimeOffset.MinValue, DateTimeOffset.MinValue, [], [], MeterBaseline.Create())
    {
    }

    private MeterState(string meterId, string region, DateTimeOffset newest, DateTimeOffset watermark,
        Dictionary<(WindowSize, DateTimeOffset), WindowSlot> windows, HashSet<long> seen, MeterBaseline baseline)
    {
        MeterId = meterId;
        Region = region;
        Newest = newest;
        Watermark = watermark;
        _windows = windows;
        _seen = seen;
        Baseline = baseline;
    }

    public string MeterId { get; }
    public string Region { get; private set; }
    /// <summary>The newest accepted timestamp.</summary>
    public DateTimeOffset Newest { get; private set; }
    /// <summary>The second-newest accepted timestamp (see the type's remarks); MinValue until two readings.</summary>
    public DateTimeOffset Watermark { get; private set; }
    public MeterBaseline Baseline { get; private set; }
    public long AcceptedTotal { get; private set; }
    public long DuplicatesTotal { get; private set; }
    public long TooLateTotal { get; private set; }
    public DateTimeOffset? LastReadingAt => Newest == DateTimeOffset.MinValue ? null : Newest;

    /// <summary>Windows holding data that has not been published in its current form.</summary>
    public bool HasUnemittedWindows => _windows.Values.Any(w => w.Dirty);

    public IEnumerable<(WindowAggregate Aggregate, int Revision, bool Dirty)> Windows =>
        _windows.Values.OrderBy(w => w.Aggregate.Size).ThenBy(w => w.Aggregate.WindowStart).Select(w => (w.Aggregate, w.Revision, w.Dirty));

    /// <summary>
    /// Classifies a batch (duplicates, too late, accepted), then works out on a copy which
    /// windows become publishable. <paramref name="idle"/> closes every window with unpublished
    /// data, for a meter that went silent. Returns no events when nothing changes.
    /// </summary>
    public IReadOnlyList<object> Decide(IEnumerable<TelemetryReading> readings, bool idle, MeterPolicy policy)
    {
        var accepted = new List<TelemetryReading>();
        var batchSeen = new HashSet<long>();
        var (newest, watermark) = (Newest, Watermark);
        int duplicates = 0, tooLate = 0;
        var region = Region;
        // Arrival order, not timestamp order: the watermark moves reading by reading, so a
        // reading's fate does not depend on how the stream happened to be cut into batches.
        foreach (var reading in readings)
        {
            var ticks = reading.Timestamp.UtcTicks;
            if (_seen.Contains(ticks) || !batchSeen.Add(ticks)) { duplicates++; continue; }
            if (IsTooLate(reading.Timestamp, watermark, policy)) { tooLate++; continue; }
            accepted.Add(reading);
            (newest, watermark) = Advance(newest, watermark, reading.Timestamp);
            if (!string.IsNullOrEmpty(reading.Region)) region = reading.Region;
        }

        var events = new List<object>(2);
        if (accepted.Count > 0 || duplicates > 0 || tooLate > 0)
            events.Add(new ReadingsAccepted(MeterId, region, accepted, duplicates, tooLate));
        if (accepted.Count == 0 && !idle)
            return events;

        var scratch = ScratchCopy();
        if (accepted.Count > 0) scratch.Apply((ReadingsAccepted)events[0]);
        var emitted = scratch.EmittableWindows(idle, policy);
        if (emitted.Count == 0) return events;

        var anomalies = new List<Anomaly>();
        foreach (var w in emitted.Where(w => w.Revision == 1 && w.Aggregate.Size == WindowSize.OneMinute))
        {
            var anomaly = policy.Detector.Detect(w.Aggregate, scratch.Baseline);
            if (anomaly is not null) anomalies.Add(anomaly);
            scratch.Baseline = scratch.Baseline.Observe(w.Aggregate.WindowStart, w.Aggregate.PowerKwAvg);
        }
        events.Add(new WindowsEmitted(MeterId, emitted, anomalies));
        return events;
    }

    public void Apply(ReadingsAccepted e)
    {
        Region = e.Region;
        DuplicatesTotal += e.Duplicates;
        TooLateTotal += e.TooLate;
        foreach (var reading in e.Readings)
        {
            if (!_seen.Add(reading.Timestamp.UtcTicks)) continue;
            AcceptedTotal++;
            foreach (var size in Sizes)
            {
                var start = Window.Floor(reading.Timestamp, size);
                var key = (size, start);
                var slot = _windows.TryGetValue(key, out var existing)
                    ? existing
                    : _windows[key] = new WindowSlot(WindowAggregate.Empty(MeterId, Region, size, start));
                slot.Aggregate = slot.Aggregate.Add(reading) with { Region = Region };
                slot.Dirty = true;
            }
            (Newest, Watermark) = Advance(Newest, Watermark, reading.Timestamp);
        }
    }

    /// <summary>The two newest accepted timestamps after one more; the second is the watermark.</summary>
    private static (DateTimeOffset Newest, DateTimeOffset Watermark) Advance(DateTimeOffset newest, DateTimeOffset watermark, DateTimeOffset timestamp) =>
        timestamp > newest ? (timestamp, newest)
        : timestamp > watermark ? (newest, timestamp)
        : (newest, watermark);

    public void Apply(WindowsEmitted e, MeterPolicy policy)
    {
        foreach (var w in e.Windows)
        {
            if (w.Revision == 1 && w.Aggregate.Size == WindowSize.OneMinute)
                Baseline = Baseline.Observe(w.Aggregate.WindowStart, w.Aggregate.PowerKwAvg);
            if (_windows.TryGetValue((w.Aggregate.Size, w.Aggregate.WindowStart), out var slot))
            {
                slot.Revision = w.Revision;
                slot.Dirty = false;
            }
        }
        Forget(policy);
    }

    /// <summary>
    /// Drops what can no longer change: published windows past their lateness, and seen
    /// timestamps behind the de-duplication horizon.
    /// </summary>
    private void Forget(MeterPolicy policy)
    {
        foreach (var (key, slot) in _windows.ToList())
            if (!slot.Dirty && IsFinal(slot.Aggregate, Watermark, policy))
                _windows.Remove(key);
        if (Watermark == DateTimeOffset.MinValue) return;
        var horizon = (Watermark - policy.DedupHorizon).UtcTicks;
        _seen.RemoveWhere(t => t < horizon);
    }

    private List<EmittedWindow> EmittableWindows(bool idle, MeterPolicy policy) =>
        _windows.Values
            .Where(w => w.Dirty && (idle || IsFinal(w.Aggregate, Watermark, policy)))
            .OrderBy(w => w.Aggregate.Size).ThenBy(w => w.Aggregate.WindowStart)
            .Select(w => new EmittedWindow(w.Aggregate, w.Revision + 1))
            .ToList();

    private static bool IsFinal(WindowAggregate window, DateTimeOffset watermark, MeterPolicy policy) =>
        watermark >= window.WindowEnd + policy.AllowedLateness;

    /// <summary>
    /// A reading is too late when the window it belongs to (the 1-minute one, the finest) is
    /// already final: its end plus lateness lies behind the watermark. The 15-minute window
    /// only ever closes later, so no reading is accepted into one size and not the other.
    /// </summary>
    private static bool IsTooLate(DateTimeOffset timestamp, DateTimeOffset watermark, MeterPolicy policy) =>
        watermark != DateTimeOffset.MinValue &&
        watermark >= Window.Floor(timestamp, WindowSize.OneMinute) + WindowSize.OneMinute.Duration() + policy.AllowedLateness;

    /// <summary>
    /// A copy to work out emissions on. It starts with no seen timestamps: the readings applied to
    /// it were just classified as unseen, so the full set (hundreds per meter, copied per batch,
    /// was the pipeline's largest allocation) would change nothing.
    /// </summary>
    private MeterState ScratchCopy() =>
        new(MeterId, Region, Newest, Watermark,
            _windows.ToDictionary(kv => kv.Key, kv => kv.Value.Copy()),
            [], Baseline)
        {
            AcceptedTotal = AcceptedTotal, DuplicatesTotal = DuplicatesTotal, TooLateTotal = TooLateTotal,
        };

    public MeterSnapshot ToSnapshot() => new(
        MeterId, Region, Watermark, AcceptedTotal, DuplicatesTotal, TooLateTotal, Baseline,
        _seen.Order().ToArray(),
        _windows.Values.Select(w => new MeterSnapshot.Slot(w.Aggregate, w.Revision, w.Dirty)).ToArray(), Newest);

    public static MeterState FromSnapshot(MeterSnapshot s) =>
        // Snapshots from before the two-timestamp watermark held the newest only.
        new(s.MeterId, s.Region, s.Newest ?? s.Watermark, s.Watermark,
            s.Windows.ToDictionary(w => (w.Aggregate.Size, w.Aggregate.WindowStart), w => new WindowSlot(w.Aggregate) { Revision = w.Revision, Dirty = w.Dirty }),
            [.. s.Seen], s.Baseline)
        {
            AcceptedTotal = s.AcceptedTotal, DuplicatesTotal = s.DuplicatesTotal, TooLateTotal = s.TooLateTotal,
        };

    private sealed class WindowSlot(WindowAggregate aggregate)
    {
        public WindowAggregate Aggregate { get; set; } = aggregate;
        /// <summary>Last published revision; 0 while never published.</summary>
        public int Revision { get; set; }
        /// <summary>Holds data newer than its last published revision.</summary>
        public bool Dirty { get; set; }
        public WindowSlot Copy() => new(Aggregate) { Revision = Revision, Dirty = Dirty };
    }
}

/// <summary>A meter's whole state, as saved in a snapshot.</summary>
public sealed record MeterSnapshot(
    string MeterId, string Region, DateTimeOffset Watermark, long AcceptedTotal, long DuplicatesTotal, long TooLateTotal,
    MeterBaseline Baseline, long[] Seen, MeterSnapshot.Slot[] Windows, DateTimeOffset? Newest = null)
{
    public sealed record Slot(WindowAggregate Aggregate, int Revision, bool Dirty);
}
