namespace SmartGrid.Bench;

/// <summary>The one percentile every bench prints: nearest rank, so a figure is always a measured value.</summary>
internal static class Percentiles
{
    /// <summary>The smallest value of <paramref name="sorted"/> (ascending) with <paramref name="percent"/> % of the values at or below it; NaN when there are none.</summary>
    public static double Of(IReadOnlyList<double> sorted, int percent) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percent / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
