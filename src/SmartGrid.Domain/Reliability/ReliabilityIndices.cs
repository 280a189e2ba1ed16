namespace SmartGrid.Domain.Reliability;

/// <summary>
/// IEEE 1366 indices of a set of customers over a period, from their interruptions that start in it:
/// SAIFI = sustained interruptions ÷ customers served, SAIDI = their minutes ÷ customers served,
/// CAIDI = SAIDI ÷ SAIFI (the average restoration time), MAIFI = momentary interruptions ÷ customers
/// served. An interruption still open at the period's end counts up to it, as sustained once longer than
/// 5 minutes and not at all before (it may yet become sustained). All null when no customer
/// was served; CAIDI also null without a sustained interruption.
/// </summary>
public sealed record ReliabilityIndices(int CustomersServed, int Sustained, int Momentary, double SustainedMinutes,
    double? Saifi, double? SaidiMinutes, double? CaidiMinutes, double? Maifi)
{
    public static ReliabilityIndices Of(IEnumerable<CustomerInterruption> interruptions, int customersServed, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(customersServed);
        if (to <= from) throw new ArgumentException($"the period must end after it starts ({from:O} .. {to:O})", nameof(to));
        int sustained = 0, momentary = 0;
        var minutes = 0.0;
        foreach (var i in interruptions.Where(i => i.Start >= from && i.Start < to))
        {
            var endedInPeriod = i.End is { } e && e <= to;
            var clipped = endedInPeriod ? i : i with { End = to };
            if (clipped.IsSustained(to)) { sustained++; minutes += clipped.Duration(to).TotalMinutes; }
            // One still going at the period's end and not yet 5 minutes long may yet become sustained: neither.
            else if (endedInPeriod) momentary++;
        }
        if (customersServed == 0)
            return new ReliabilityIndices(0, sustained, momentary, minutes, null, null, null, null);
        double saifi = (double)sustained / customersServed, saidi = minutes / customersServed;
        return new ReliabilityIndices(customersServed, sustained, momentary, minutes, saifi, saidi,
            sustained == 0 ? null : saidi / saifi, (double)momentary / customersServed);
    }
}
