using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Serialization;

/// <summary>
/// A window's statistics in binary, shared by the formats that hold windows (a meter's snapshot, a region's events and
/// snapshot): the counts in 7-bit groups, the sums and extremes as raw doubles, so they read back bit for bit.
/// </summary>
internal static class WindowSumsFormat
{
    public static void Write(BinaryWriter w, WindowAggregate a)
    {
        w.Write7BitEncodedInt(a.ReadingCount);
        w.Write7BitEncodedInt(a.PowerFactorCount);
        w.Write7BitEncodedInt(a.FrequencyCount);
        w.Write(a.EnergyKwhSum);
        w.Write(a.PowerKwSum);
        w.Write(a.PowerKwMin);
        w.Write(a.PowerKwMax);
        w.Write(a.VoltageSum);
        w.Write(a.CurrentSum);
        w.Write(a.PowerFactorSum);
        w.Write(a.FrequencySum);
        w.Write(a.VoltageMin);
        w.Write(a.VoltageMax);
    }

    /// <summary>
    /// The statistics <see cref="Write"/> wrote, on a window of <paramref name="meterId"/>; without
    /// <paramref name="voltageExtremes"/> (meter snapshots before they were kept) both read back at the mean voltage.
    /// </summary>
    public static WindowAggregate Read(BinaryReader r, string meterId, string region, WindowSize size, DateTimeOffset start, bool voltageExtremes = true)
    {
        var aggregate = new WindowAggregate
        {
            MeterId = meterId, Region = region, Size = size, WindowStart = start,
            ReadingCount = r.Read7BitEncodedInt(),
            PowerFactorCount = r.Read7BitEncodedInt(),
            FrequencyCount = r.Read7BitEncodedInt(),
            EnergyKwhSum = r.ReadDouble(),
            PowerKwSum = r.ReadDouble(),
            PowerKwMin = r.ReadDouble(),
            PowerKwMax = r.ReadDouble(),
            VoltageSum = r.ReadDouble(),
            CurrentSum = r.ReadDouble(),
            PowerFactorSum = r.ReadDouble(),
            FrequencySum = r.ReadDouble(),
        };
        return voltageExtremes
            ? aggregate with { VoltageMin = r.ReadDouble(), VoltageMax = r.ReadDouble() }
            : aggregate with { VoltageMin = aggregate.VoltageAvg, VoltageMax = aggregate.VoltageAvg };
    }
}
