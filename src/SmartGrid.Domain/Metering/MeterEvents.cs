using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Metering;

/// <summary>Persisted by a meter: the readings it accepted from one batch (already de-duplicated).</summary>
public sealed record ReadingsAccepted(string MeterId, string Region, IReadOnlyList<TelemetryReading> Readings, int Duplicates, int TooLate);

/// <summary>
/// Persisted by a meter in the same atomic write as the readings that caused it: windows whose
/// aggregate is final enough to publish (revision 1 on close, higher when a late reading amends
/// it), and anomalies found against the baseline. The window projection reads these by tag.
/// </summary>
public sealed record WindowsEmitted(string MeterId, IReadOnlyList<EmittedWindow> Windows, IReadOnlyList<Anomaly> Anomalies);

/// <summary>A window's aggregate as published; (MeterId, Size, WindowStart) is its identity, Revision orders versions.</summary>
public sealed record EmittedWindow(WindowAggregate Aggregate, int Revision)
{
    /// <summary>The newest revision of each window among <paramref name="windows"/>: an older one would only be overwritten.</summary>
    public static IEnumerable<EmittedWindow> NewestRevisions(IEnumerable<EmittedWindow> windows) =>
        windows.GroupBy(w => (w.Aggregate.MeterId, w.Aggregate.Size, w.Aggregate.WindowStart)).Select(g => g.MaxBy(w => w.Revision)!);
}

/// <summary>
/// Persisted by a meter with the readings that started or ended voltage runs (sag, swell,
/// interruption): a run appears once when it starts (no end) and once when it ends. The run itself
/// lives in the meter's state, rebuilt from the readings; this event only carries it to the
/// window projection, which UPSERTs it by (meter, start).
/// </summary>
public sealed record VoltageEventsObserved(string MeterId, IReadOnlyList<VoltageEvent> Events);

/// <summary>
/// Persisted by a meter with the readings that started or ended a customer interruption (last gasp,
/// or silence seen when the meter reports again), like <see cref="VoltageEventsObserved"/>: the
/// interruption lives in the meter's state; this carries it to the window projection, which UPSERTs
/// it into customer_interruptions by (meter, start). <see cref="Region"/> is the meter's at the time.
/// </summary>
public sealed record CustomerInterruptionsObserved(string MeterId, string Region, IReadOnlyList<CustomerInterruption> Interruptions);
