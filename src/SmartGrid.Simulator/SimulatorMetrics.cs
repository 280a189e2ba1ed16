using System.Diagnostics.Metrics;

namespace SmartGrid.Simulator;

/// <summary>The simulator's counters (Meter <see cref="MeterName"/>), read from a run's <see cref="SimulatorProgress"/>.</summary>
public static class SimulatorMetrics
{
    public const string MeterName = "SmartGrid.Simulator";

    /// <summary>Publishes the counters of <paramref name="progress"/>; <paramref name="rate"/> gives the latest readings/s.</summary>
    public static Meter Observe(IMeterFactory meterFactory, SimulatorProgress progress, Func<double> rate)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("readings.sent", () => progress.Sent, "{reading}", "Readings handed to the sink");
        meter.CreateObservableCounter("readings.accepted", () => progress.Accepted, "{reading}", "Readings the sink accepted");
        meter.CreateObservableCounter("readings.rejected", () => progress.Rejected, "{reading}", "Readings the sink rejected");
        meter.CreateObservableCounter("readings.failed", () => progress.Failed, "{reading}", "Readings of batches that could not be delivered");
        meter.CreateObservableGauge("rate", rate, "{reading}/s", "Readings sent per second over the last report period");
        return meter;
    }
}
