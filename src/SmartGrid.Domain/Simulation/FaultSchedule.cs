using System.Globalization;

namespace SmartGrid.Domain.Simulation;

/// <summary>
/// One fault the simulator injected: the meter was in <paramref name="Kind"/> (never
/// <see cref="MeterCondition.Normal"/>) for the ticks of [<paramref name="Start"/>, <paramref name="End"/>).
/// </summary>
public sealed record InjectedFault(string MeterId, string Region, MeterCondition Kind, DateTimeOffset Start, DateTimeOffset End)
{
    /// <summary>One tab-separated line: meter, region, kind, start, end (ISO-8601 UTC).</summary>
    public string ToLine() => string.Join('\t', MeterId, Region, Kind.ToString().ToLowerInvariant(),
        Start.ToString("O", CultureInfo.InvariantCulture), End.ToString("O", CultureInfo.InvariantCulture));
}

/// <summary>
/// The ground truth of a simulated span: every fault the readings of [from, to) show, read from the
/// generator tick by tick rather than from its episode slots, so precedence (an outage hides a spike,
/// a spike hides a drop) and back-to-back episodes come out as the readings do. The same seed gives
/// the same schedule.
/// </summary>
public static class FaultSchedule
{
    /// <summary>Power faults and outages (spike, drop, outage) of [from, to), clipped to it, ordered by start then meter.</summary>
    public static IReadOnlyList<InjectedFault> Between(ReadingGenerator generator, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return Collect(generator, from, to, generator.ConditionAt);
    }

    /// <summary>
    /// Voltage faults (sag, swell, drift) of [from, to), the same way: what the power-quality routes must find. A tick
    /// in an outage shows none (the meter sends nothing, or its last gasp).
    /// </summary>
    public static IReadOnlyList<InjectedFault> VoltageBetween(ReadingGenerator generator, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return Collect(generator, from, to, (meter, tick) =>
            generator.ConditionAt(meter, tick) == MeterCondition.Outage ? MeterCondition.Normal : generator.VoltageConditionAt(meter, tick));
    }

    private static List<InjectedFault> Collect(ReadingGenerator generator, DateTimeOffset from, DateTimeOffset to,
        Func<SimulatedMeter, DateTimeOffset, MeterCondition> conditionAt)
    {
        var interval = generator.Fleet.Options.Interval;
        var first = generator.AlignToTick(from);
        if (first < from)
            first += interval;
        var faults = new List<InjectedFault>();
        foreach (var meter in generator.Fleet.Meters)
        {
            var kind = MeterCondition.Normal;
            var since = first;
            var tick = first;
            for (; tick < to; tick += interval)
            {
                var now = conditionAt(meter, tick);
                if (now == kind)
                    continue;
                if (kind != MeterCondition.Normal)
                    faults.Add(new InjectedFault(meter.MeterId, meter.Region, kind, since, tick));
                kind = now;
                since = tick;
            }
            if (kind != MeterCondition.Normal)
                faults.Add(new InjectedFault(meter.MeterId, meter.Region, kind, since, Min(tick, to)));
        }
        faults.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : string.CompareOrdinal(a.MeterId, b.MeterId));
        return faults;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
