using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Metering;

/// <summary>
/// Everything one meter owns: its open and amendable 1-minute and 15-minute windows, the
/// timestamps it has seen (de-duplication), its event-time watermark and its baseline.
/// <para>
/// A node holds hundreds of thousands of these, so the state is kept compact (about 1.3 KiB with a
/// full de-duplication horizon, against 5.5 KiB as records in dictionaries): the windows as a small
/// sorted array of structs with their sums (<see cref="WindowSums"/>), published as
/// <see cref="WindowAggregate"/>s only when asked; the seen timestamps as a ring of bits
/// (<see cref="SeenTimestamps"/>); times as ticks; region names shared between meters.
/// </para>
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

    /// <summary>Region names as readings bring them, one instance each, so a million meters do not hold a million copies.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> RegionNames = new(StringComparer.Ordinal);
    private const int MaxSharedRegionNames = 4_096;
    private const int MinWindowRoom = 4;

    /// <summary>Open windows ordered by size then start; the first <see cref="_windowCount"/> are in use.</summary>
    private OpenWindow[] _windows;
    private int _windowCount;
    /// <summary>Null on a scratch copy, whose readings were just found unseen.</summary>
    private readonly SeenTimestamps? _seen;
    private long _newestTicks;
    private long _watermarkTicks;
    /// <summary>The open sag, swell or interruption, if any: fed by the newest reading only (see <see cref="Apply(ReadingsAccepted, MeterPolicy)"/>).</summary>
    private VoltageRun _voltageRun;
    /// <summary>The customer interruption in progress and the meter's reporting interval, fed like <see cref="_voltageRun"/>.</summary>
    private InterruptionWatch _interruption;

    public MeterState(string meterId)
        : this(meterId, Domain.Grid.Regions.Unassigned, DateTimeOffset.MinValue.UtcTicks, DateTimeOffset.MinValue.UtcTicks, [], new SeenTimestamps(), MeterBaseline.Create())
    {
    }

    private MeterState(string meterId, string region, long newestTicks, long watermarkTicks,
        OpenWindow[] windows, SeenTimestamps? seen, MeterBaseline baseline)
    {
        MeterId = meterId;
        Region = region;
        _newestTicks = newestTicks;
        _watermarkTicks = watermarkTicks;
        _windows = windows;
        _windowCount = windows.Length;
        _seen = seen;
        Baseline = baseline;
    }

    public string MeterId { get; }
    public string Region { get; private set; }
    /// <summary>The newest accepted timestamp.</summary>
    public DateTimeOffset Newest => new(_newestTicks, TimeSpan.Zero);
    /// <summary>The second-newest accepted timestamp (see the type's remarks); MinValue until two readings.</summary>
    public DateTimeOffset Watermark => new(_watermarkTicks, TimeSpan.Zero);
    public MeterBaseline Baseline { get; private set; }
    public long AcceptedTotal { get; private set; }
    public long DuplicatesTotal { get; private set; }
    public long TooLateTotal { get; private set; }
    public DateTimeOffset? LastReadingAt => _newestTicks == DateTimeOffset.MinValue.UtcTicks ? null : Newest;

    /// <summary>Windows holding data that has not been published in its current form.</summary>
    public bool HasUnemittedWindows
    {
        get
        {
            for (var i = 0; i < _windowCount; i++)
                if (_windows[i].Dirty) return true;
            return false;
        }
    }

    public IEnumerable<(WindowAggregate Aggregate, int Revision, bool Dirty)> Windows =>
        _windows.Take(_windowCount).Select(w => (w.ToAggregate(MeterId), w.Revision, w.Dirty)).ToList();

    /// <summary>
    /// Classifies a batch (duplicates, too late, accepted), then works out on a copy which
    /// windows become publishable. <paramref name="idle"/> closes every window with unpublished
    /// data, for a meter that went silent. Returns no events when nothing changes.
    /// </summary>
    public IReadOnlyList<object> Decide(IEnumerable<TelemetryReading> readings, bool idle, MeterPolicy policy)
    {
        var accepted = new List<TelemetryReading>();
        var batchSeen = new HashSet<long>();
        var (newest, watermark) = (_newestTicks, _watermarkTicks);
        int duplicates = 0, tooLate = 0;
        var region = Region;
        // Arrival order, not timestamp order: the watermark moves reading by reading, so a
        // reading's fate does not depend on how the stream happened to be cut into batches.
        foreach (var reading in readings)
        {
            var ticks = reading.Timestamp.UtcTicks;
            if (_seen!.Contains(ticks) || !batchSeen.Add(ticks)) { duplicates++; continue; }
            if (IsTooLate(ticks, watermark, policy)) { tooLate++; continue; }
            accepted.Add(reading);
            (newest, watermark) = Advance(newest, watermark, ticks);
            if (!string.IsNullOrEmpty(reading.Region)) region = reading.Region;
        }

        var events = new List<object>(2);
        if (accepted.Count > 0 || duplicates > 0 || tooLate > 0)
            events.Add(new ReadingsAccepted(MeterId, region, accepted, duplicates, tooLate));
        if (accepted.Count == 0 && !idle)
            return events;

        var scratch = ScratchCopy();
        List<VoltageEvent>? observed = null;
        List<CustomerInterruption>? interruptions = null;
        if (accepted.Count > 0) scratch.Apply((ReadingsAccepted)events[0], policy, ref observed, ref interruptions);
        if (observed is not null) events.Add(new VoltageEventsObserved(MeterId, observed));
        if (interruptions is not null) events.Add(new CustomerInterruptionsObserved(MeterId, scratch.Region, interruptions));
        var emitted = scratch.EmittableWindows(idle, policy);
        if (emitted.Count == 0) return events;

        var anomalies = new List<Anomaly>();
        foreach (var w in emitted.Where(w => w.Revision == 1 && w.Aggregate.Size == WindowSize.OneMinute))
        {
            var anomaly = policy.Detector.Detect(w.Aggregate, scratch.Baseline, policy.NominalVoltage(w.Aggregate.Region));
            if (anomaly is not null) anomalies.Add(anomaly);
            scratch.Baseline = Learn(scratch.Baseline, w.Aggregate, policy);
        }
        events.Add(new WindowsEmitted(MeterId, emitted, anomalies));
        return events;
    }

    /// <summary>
    /// Adds the readings to their windows and, for each reading newer than every accepted one, to
    /// the voltage run. A reading older than the newest (out of order, yet within lateness) counts in
    /// its windows, voltage_10m included, but does not split or extend a run: runs follow the meter's
    /// newest readings in the order they arrive, so a replay of the same stream decides the same runs.
    /// </summary>
    public void Apply(ReadingsAccepted e, MeterPolicy policy)
    {
        List<VoltageEvent>? ignored = null;
        List<CustomerInterruption>? alsoIgnored = null;
        Apply(e, policy, ref ignored, ref alsoIgnored);
    }

    private void Apply(ReadingsAccepted e, MeterPolicy policy, ref List<VoltageEvent>? observed, ref List<CustomerInterruption>? interruptions)
    {
        Region = Shared(e.Region);
        DuplicatesTotal += e.Duplicates;
        TooLateTotal += e.TooLate;
        var nominal = e.Readings.Count > 0 ? policy.NominalVoltage(Region) : 0;
        foreach (var reading in e.Readings)
        {
            var ticks = reading.Timestamp.UtcTicks;
            if (_seen is not null && !_seen.Add(ticks)) continue;
            AcceptedTotal++;
            if (ticks > _newestTicks)
            {
                _voltageRun.Observe(MeterId, Region, ticks, reading.Voltage, nominal, ref observed);
                _interruption.Observe(MeterId, _newestTicks, ticks, reading.Voltage, nominal, ref interruptions);
            }
            foreach (var size in Sizes)
            {
                ref var window = ref WindowAt(size, Window.Floor(reading.Timestamp, size).UtcTicks);
                window.Sums.Add(reading);
                window.Region = Region;
                window.Dirty = true;
            }
            (_newestTicks, _watermarkTicks) = Advance(_newestTicks, _watermarkTicks, ticks);
        }
    }

    public void Apply(WindowsEmitted e, MeterPolicy policy)
    {
        foreach (var w in e.Windows)
        {
            if (w.Revision == 1 && w.Aggregate.Size == WindowSize.OneMinute)
                Baseline = Learn(Baseline, w.Aggregate, policy);
            var i = IndexOf(w.Aggregate.Size, w.Aggregate.WindowStart.UtcTicks);
            if (i >= 0)
            {
                _windows[i].Revision = w.Revision;
                _windows[i].Dirty = false;
            }
        }
        Forget(policy);
    }

    private static MeterBaseline Learn(MeterBaseline baseline, WindowAggregate window, MeterPolicy policy) =>
        AnomalyDetector.IsSupplyLoss(window, policy.NominalVoltage(window.Region))
            ? baseline
            : baseline.Observe(window.WindowStart, policy.Detector.Learnable(window.PowerKwAvg, baseline.Reference(window.WindowStart)));

    /// <summary>The two newest accepted timestamps after one more; the second is the watermark.</summary>
    private static (long Newest, long Watermark) Advance(long newest, long watermark, long ticks) =>
        ticks > newest ? (ticks, newest)
        : ticks > watermark ? (newest, ticks)
        : (newest, watermark);

    /// <summary>
    /// Drops what can no longer change: published windows past their lateness, and seen
    /// timestamps behind the de-duplication horizon.
    /// </summary>
    private void Forget(MeterPolicy policy)
    {
        var kept = 0;
        for (var i = 0; i < _windowCount; i++)
            if (_windows[i].Dirty || !IsFinal(_windows[i], _watermarkTicks, policy))
                _windows[kept++] = _windows[i];
        Array.Clear(_windows, kept, _windowCount - kept);
        _windowCount = kept;
        // Five windows are open around a quarter-hour's end, three the rest of the time: give the room back.
        if (_windows.Length > MinWindowRoom && kept <= MinWindowRoom) Array.Resize(ref _windows, MinWindowRoom);
        if (_watermarkTicks == DateTimeOffset.MinValue.UtcTicks) return;
        _seen?.ForgetBefore(_watermarkTicks - policy.DedupHorizon.Ticks);
    }

    private List<EmittedWindow> EmittableWindows(bool idle, MeterPolicy policy)
    {
        var emittable = new List<EmittedWindow>();
        for (var i = 0; i < _windowCount; i++)
        {
            var w = _windows[i];
            if (w.Dirty && (idle || IsFinal(w, _watermarkTicks, policy)))
                emittable.Add(new EmittedWindow(w.ToAggregate(MeterId), w.Revision + 1));
        }
        return emittable;
    }

    private static bool IsFinal(in OpenWindow window, long watermarkTicks, MeterPolicy policy) =>
        watermarkTicks >= window.StartTicks + window.Size.Duration().Ticks + policy.AllowedLateness.Ticks;

    /// <summary>
    /// A reading is too late when the window it belongs to (the 1-minute one, the finest) is
    /// already final: its end plus lateness lies behind the watermark. The 15-minute window
    /// only ever closes later, so no reading is accepted into one size and not the other.
    /// </summary>
    private static bool IsTooLate(long ticks, long watermarkTicks, MeterPolicy policy) =>
        watermarkTicks != DateTimeOffset.MinValue.UtcTicks &&
        watermarkTicks >= ticks - ticks % TimeSpan.TicksPerMinute + TimeSpan.TicksPerMinute + policy.AllowedLateness.Ticks;

    private int IndexOf(WindowSize size, long startTicks)
    {
        for (var i = 0; i < _windowCount; i++)
            if (_windows[i].Size == size && _windows[i].StartTicks == startTicks) return i;
        return -1;
    }

    /// <summary>The open window of this size and start, created empty (for the meter's current region) where it belongs in the order.</summary>
    private ref OpenWindow WindowAt(WindowSize size, long startTicks)
    {
        var i = IndexOf(size, startTicks);
        if (i >= 0) return ref _windows[i];
        var at = 0;
        while (at < _windowCount && (_windows[at].Size < size || _windows[at].Size == size && _windows[at].StartTicks < startTicks)) at++;
        if (_windowCount == _windows.Length) Array.Resize(ref _windows, Math.Max(MinWindowRoom, _windows.Length * 2));
        Array.Copy(_windows, at, _windows, at + 1, _windowCount - at);
        _windows[at] = new OpenWindow { Size = size, StartTicks = startTicks, Region = Region };
        _windowCount++;
        return ref _windows[at];
    }

    private static string Shared(string region) =>
        RegionNames.TryGetValue(region, out var shared) ? shared
        : RegionNames.Count < MaxSharedRegionNames ? RegionNames.GetOrAdd(region, region)
        : region;

    /// <summary>
    /// A copy to work out emissions on. It has no seen timestamps: the readings applied to it were
    /// just classified as unseen, so the set (copied per batch, it was once the pipeline's largest
    /// allocation) would change nothing.
    /// </summary>
    private MeterState ScratchCopy() =>
        new(MeterId, Region, _newestTicks, _watermarkTicks, _windows[.._windowCount], seen: null, Baseline)
        {
            AcceptedTotal = AcceptedTotal, DuplicatesTotal = DuplicatesTotal, TooLateTotal = TooLateTotal, _voltageRun = _voltageRun,
            _interruption = _interruption,
        };

    public MeterSnapshot ToSnapshot() => new(
        MeterId, Region, Watermark, AcceptedTotal, DuplicatesTotal, TooLateTotal, Baseline,
        _seen?.ToSortedArray() ?? [],
        _windows.Take(_windowCount).Select(w => new MeterSnapshot.Slot(w.ToAggregate(MeterId), w.Revision, w.Dirty)).ToArray(), Newest,
        _voltageRun.Open ? new MeterSnapshot.OpenVoltageRun(_voltageRun.Side, new DateTimeOffset(_voltageRun.StartTicks, TimeSpan.Zero), _voltageRun.Extreme) : null,
        _interruption.Cadence,
        _interruption.Open ? new MeterSnapshot.OpenInterruption(new DateTimeOffset(_interruption.OpenStartTicks, TimeSpan.Zero), _interruption.OpenBy) : null);

    /// <summary>The customer interruption in progress, with no end.</summary>
    public CustomerInterruption? OpenInterruption => _interruption.Open ? _interruption.ToInterruption(MeterId, end: null) : null;

    /// <summary>The meter's reporting interval as learned from its two newest readings; null until it has two.</summary>
    public TimeSpan? ReportingInterval => _interruption.Cadence;

    /// <summary>The sag, swell or interruption in progress, as its event with no end.</summary>
    public VoltageEvent? OpenVoltageEvent(MeterPolicy policy) =>
        _voltageRun.Open ? _voltageRun.ToEvent(MeterId, Region, policy.NominalVoltage(Region), end: null) : null;

    public static MeterState FromSnapshot(MeterSnapshot s) =>
        // Snapshots from before the two-timestamp watermark held the newest only.
        new(s.MeterId, Shared(s.Region), (s.Newest ?? s.Watermark).UtcTicks, s.Watermark.UtcTicks,
            s.Windows.Select(OpenWindow.From).OrderBy(w => w.Size).ThenBy(w => w.StartTicks).ToArray(),
            new SeenTimestamps(s.Seen), s.Baseline)
        {
            AcceptedTotal = s.AcceptedTotal, DuplicatesTotal = s.DuplicatesTotal, TooLateTotal = s.TooLateTotal,
            _voltageRun = s.VoltageRun is { } run
                ? new VoltageRun { Side = (sbyte)Math.Sign(run.Side), StartTicks = run.Start.UtcTicks, Extreme = run.Extreme }
                : default,
            _interruption = new InterruptionWatch
            {
                CadenceTicks = s.ReportingInterval?.Ticks ?? 0,
                OpenStartTicks = s.Interruption?.Start.UtcTicks ?? 0,
                OpenBy = s.Interruption?.StartedBy ?? default,
            },
        };

    /// <summary>One open window: its identity, publication state and sums, with no meter id or record around them.</summary>
    private struct OpenWindow
    {
        public long StartTicks;
        public WindowSize Size;
        /// <summary>Last published revision; 0 while never published.</summary>
        public int Revision;
        /// <summary>Holds data newer than its last published revision.</summary>
        public bool Dirty;
        /// <summary>The meter's region when the window last took a reading.</summary>
        public string Region;
        public WindowSums Sums;

        public readonly WindowAggregate ToAggregate(string meterId) =>
            WindowAggregate.Of(meterId, Region, Size, new DateTimeOffset(StartTicks, TimeSpan.Zero), Sums);

        public static OpenWindow From(MeterSnapshot.Slot slot) => new()
        {
            StartTicks = slot.Aggregate.WindowStart.UtcTicks, Size = slot.Aggregate.Size, Revision = slot.Revision, Dirty = slot.Dirty,
            Region = Shared(slot.Aggregate.Region), Sums = WithVoltageExtremes(slot.Aggregate.Sums),
        };

        /// <summary>
        /// Windows saved before extremes were kept read back with both at 0 beside a positive voltage sum
        /// (both at 0 with a sum of 0 are real: every reading was 0 V): they get the window's mean, the one
        /// value known to lie between them.
        /// </summary>
        private static WindowSums WithVoltageExtremes(WindowSums sums)
        {
            if (sums.ReadingCount == 0 || sums.VoltageMax != 0 || sums.VoltageSum == 0) return sums;
            sums.VoltageMin = sums.VoltageMax = sums.VoltageSum / sums.ReadingCount;
            return sums;
        }
    }
}

/// <summary>A meter's whole state, as saved in a snapshot.</summary>
public sealed record MeterSnapshot(
    string MeterId, string Region, DateTimeOffset Watermark, long AcceptedTotal, long DuplicatesTotal, long TooLateTotal,
    MeterBaseline Baseline, long[] Seen, MeterSnapshot.Slot[] Windows, DateTimeOffset? Newest = null,
    MeterSnapshot.OpenVoltageRun? VoltageRun = null, TimeSpan? ReportingInterval = null, MeterSnapshot.OpenInterruption? Interruption = null)
{
    public sealed record Slot(WindowAggregate Aggregate, int Revision, bool Dirty);

    /// <summary>A run outside 90–110 % of nominal in progress: Side -1 low, +1 high.</summary>
    public sealed record OpenVoltageRun(int Side, DateTimeOffset Start, double Extreme);

    /// <summary>A customer interruption in progress.</summary>
    public sealed record OpenInterruption(DateTimeOffset Start, InterruptionStart StartedBy);
}
