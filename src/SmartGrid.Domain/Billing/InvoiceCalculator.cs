namespace SmartGrid.Domain.Billing;

/// <summary>Energy of one meter in one 15-minute window (aggregates_15m), in the region the window was measured in.</summary>
public sealed record MeteredWindow(string MeterId, string Region, DateTimeOffset WindowStart, double EnergyKwh);

/// <summary>The windows of one meter billed at one price: energy × price, rounded to the cent once per line.</summary>
public sealed record InvoiceLine(
    string MeterId, string Region, decimal PricePerKwh, Guid? OverrideId, int Windows, decimal EnergyKwh, decimal Amount,
    DateTimeOffset FirstWindowStart, DateTimeOffset LastWindowStart);

/// <summary>
/// An invoice before it is stored. <see cref="Amount"/> is the sum of the lines' amounts, so the
/// lines add up to the total exactly. Windows of a region without any price are counted apart
/// (<see cref="UnpricedWindows"/>), never billed at a guessed price.
/// </summary>
public sealed record InvoiceDraft(
    BillingPeriod Period, IReadOnlyList<InvoiceLine> Lines, int Windows, decimal EnergyKwh, decimal Amount, int UnpricedWindows,
    decimal UnpricedEnergyKwh);

/// <summary>Pure pricing of a period: each window's energy × the price in force at the window's start.</summary>
public static class InvoiceCalculator
{
    /// <summary>Meter energy is stored as double; six decimals (1 mWh) is far below what a meter resolves.</summary>
    public const int EnergyDecimals = 6;

    public const int AmountDecimals = 2;

    /// <param name="windows">The user's windows; those outside <paramref name="period"/> are ignored.</param>
    /// <param name="historyOf">The price history of a region, or null when the region has none.</param>
    public static InvoiceDraft Compute(BillingPeriod period, IEnumerable<MeteredWindow> windows, Func<string, RegionPriceHistory?> historyOf)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(historyOf);
        var lines = new Dictionary<(string Meter, string Region, decimal Price, Guid? Override), LineBuilder>();
        var unpricedWindows = 0;
        var unpricedEnergy = 0m;
        var histories = new Dictionary<string, RegionPriceHistory?>(StringComparer.Ordinal);

        foreach (var window in windows)
        {
            if (!period.Contains(window.WindowStart))
                continue;
            if (double.IsNaN(window.EnergyKwh) || double.IsInfinity(window.EnergyKwh) || window.EnergyKwh < 0)
                throw new ArgumentException($"window {window.MeterId} {window.WindowStart:O} has energy {window.EnergyKwh}", nameof(windows));
            var energy = Math.Round((decimal)window.EnergyKwh, EnergyDecimals, MidpointRounding.AwayFromZero);
            if (!histories.TryGetValue(window.Region, out var history))
                histories[window.Region] = history = historyOf(window.Region);
            if (history?.PriceAt(window.WindowStart) is not { } price)
            {
                unpricedWindows++;
                unpricedEnergy += energy;
                continue;
            }

            var key = (window.MeterId, window.Region, price.PricePerKwh, price.OverrideId);
            if (!lines.TryGetValue(key, out var line))
                lines[key] = line = new LineBuilder(window.WindowStart);
            line.Add(window.WindowStart, energy);
        }

        var built = lines
            .Select(kv => new InvoiceLine(kv.Key.Meter, kv.Key.Region, kv.Key.Price, kv.Key.Override, kv.Value.Windows, kv.Value.Energy,
                Math.Round(kv.Value.Energy * kv.Key.Price, AmountDecimals, MidpointRounding.AwayFromZero), kv.Value.First, kv.Value.Last))
            .OrderBy(l => l.MeterId, StringComparer.Ordinal).ThenBy(l => l.FirstWindowStart).ThenBy(l => l.PricePerKwh)
            .ToArray();
        return new InvoiceDraft(period, built, built.Sum(l => l.Windows) + unpricedWindows, built.Sum(l => l.EnergyKwh) + unpricedEnergy,
            built.Sum(l => l.Amount), unpricedWindows, unpricedEnergy);
    }

    private sealed class LineBuilder(DateTimeOffset first)
    {
        public DateTimeOffset First { get; private set; } = first;
        public DateTimeOffset Last { get; private set; } = first;
        public int Windows { get; private set; }
        public decimal Energy { get; private set; }

        public void Add(DateTimeOffset start, decimal energy)
        {
            Windows++;
            Energy += energy;
            if (start < First) First = start;
            if (start > Last) Last = start;
        }
    }
}
