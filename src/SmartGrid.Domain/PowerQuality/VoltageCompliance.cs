namespace SmartGrid.Domain.PowerQuality;

/// <summary>
/// The summary of a meter's (or a node's) 10-minute voltage means against its nominal voltage:
/// the shares within EN 50160's ±10 % and ANSI C84.1's range A (±5 %), and EN 50160 compliance
/// (at least 95 % of the means within ±10 %, and every mean within −15 % / +10 %). No windows is
/// not compliance: <see cref="Compliant"/> is null then, as are the shares.
/// </summary>
public sealed record VoltageCompliance(int Windows, double? WithinBandShare, double? RangeAShare, bool? Compliant, double? LowestMean, double? HighestMean)
{
    public static VoltageCompliance Of(IEnumerable<double> tenMinuteMeans, double nominal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nominal);
        int windows = 0, withinBand = 0, rangeA = 0;
        double lowest = double.PositiveInfinity, highest = double.NegativeInfinity;
        foreach (var mean in tenMinuteMeans)
        {
            windows++;
            if (Within(mean, nominal, VoltageBands.Band)) withinBand++;
            if (Within(mean, nominal, VoltageBands.RangeA)) rangeA++;
            lowest = Math.Min(lowest, mean);
            highest = Math.Max(highest, mean);
        }
        return OfCounts(windows, withinBand, rangeA, lowest, highest, nominal);
    }

    /// <summary>
    /// The same from counts a database can aggregate (how many means, how many within ±10 % and ±5 %, the lowest and
    /// highest): the one definition of compliance, for the routes and the power-quality alerts alike.
    /// </summary>
    public static VoltageCompliance OfCounts(int windows, int withinBand, int rangeA, double lowest, double highest, double nominal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nominal);
        if (windows == 0)
            return new VoltageCompliance(0, null, null, null, null, null);
        var bounded = lowest >= VoltageBands.MeanFloor * nominal && highest <= VoltageBands.MeanCeiling * nominal;
        var bandShare = (double)withinBand / windows;
        return new VoltageCompliance(windows, bandShare, (double)rangeA / windows,
            bandShare >= VoltageBands.CompliantShare && bounded, lowest, highest);
    }

    private static bool Within(double mean, double nominal, double share) =>
        mean >= (1 - share) * nominal && mean <= (1 + share) * nominal;
}
