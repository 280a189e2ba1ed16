using SmartGrid.Domain.Metering;

namespace SmartGrid.Contracts;

/// <summary>
/// An aggregates_1m / aggregates_15m message, as the pipeline's window projection publishes it keyed by meter: the seed's
/// statistics plus the revision consumers de-duplicate on; (meter_id, window_start) identifies a window. Property order is
/// the JSON's field order.
/// </summary>
public sealed record AggregateMessage(
    string MeterId, string Region, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, int ReadingCount,
    double EnergyKwhSum, double PowerKwAvg, double PowerKwMin, double PowerKwMax,
    double VoltageAvg, double CurrentAvg, double? PowerFactorAvg, int Revision)
{
    /// <summary>The message of one emitted revision of a meter's window.</summary>
    public static AggregateMessage From(EmittedWindow w)
    {
        var a = w.Aggregate;
        return new(a.MeterId, a.Region, a.WindowStart, a.WindowEnd, a.ReadingCount, a.EnergyKwhSum, a.PowerKwAvg,
            a.PowerKwMin, a.PowerKwMax, a.VoltageAvg, a.CurrentAvg, a.PowerFactorAvg, w.Revision);
    }
}
