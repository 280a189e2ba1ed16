using System.Globalization;

namespace SmartGrid.Domain.Billing;

/// <summary>A calendar month in UTC, written YYYY-MM: windows with <see cref="Start"/> &lt;= window_start &lt; <see cref="End"/> belong to it.</summary>
public readonly record struct BillingPeriod
{
    private BillingPeriod(int year, int month)
    {
        Year = year;
        Month = month;
    }

    public int Year { get; }
    public int Month { get; }

    public DateTimeOffset Start => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);
    public DateTimeOffset End => Start.AddMonths(1);

    /// <summary>Parses YYYY-MM (years 2000-9998); false for anything else, such as 2026-13 or 2026-1.</summary>
    public static bool TryParse(string? text, out BillingPeriod period)
    {
        period = default;
        if (text is not { Length: 7 } || text[4] != '-'
            || !int.TryParse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(text.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            || year is < 2000 or > 9998 || month is < 1 or > 12)
        {
            return false;
        }

        period = new BillingPeriod(year, month);
        return true;
    }

    public static BillingPeriod Of(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new BillingPeriod(utc.Year, utc.Month);
    }

    public bool Contains(DateTimeOffset time) => time >= Start && time < End;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}");
}
