using System.Globalization;
using System.Text.RegularExpressions;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// Reads query parameters with an error per parameter at fault, like <see cref="JsonBody"/>.
/// Times are ISO-8601 with an explicit zone (Z or ±hh:mm) and are returned in UTC.
/// </summary>
internal sealed partial class QueryReader(IQueryCollection query)
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool HasErrors => _errors.Count > 0;

    public IResult Problem() => Problems.Validation(_errors);

    public void Error(string field, string reason) => _errors.TryAdd(field, [reason]);

    public string? Raw(string name)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0)
            return null;
        if (values.Count > 1)
        {
            Error(name, "must be given once");
            return null;
        }
        return values[0];
    }

    public DateTimeOffset? Time(string name, bool required)
    {
        var text = Raw(name);
        if (string.IsNullOrEmpty(text))
        {
            if (required && !_errors.ContainsKey(name)) Error(name, "is required (ISO-8601 UTC time, e.g. 2026-01-31T10:15:00Z)");
            return null;
        }
        if (!ZoneSuffix().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value))
        {
            Error(name, $"'{Truncate(text)}' is not an ISO-8601 time with a zone (e.g. 2026-01-31T10:15:00Z)");
            return null;
        }
        return value.ToUniversalTime();
    }

    /// <summary>[from, to) with from &lt; to and a span of at most <paramref name="maxRange"/>; defaults to the last <paramref name="defaultSpan"/>.</summary>
    public (DateTimeOffset From, DateTimeOffset To) Range(DateTimeOffset now, TimeSpan defaultSpan, TimeSpan maxRange)
    {
        var to = Time("to", required: false) ?? now;
        var from = Time("from", required: false) ?? to - defaultSpan;
        if (_errors.ContainsKey("from") || _errors.ContainsKey("to"))
            return (from, to);
        if (from >= to)
            Error("from", $"must be before to ({to:O})");
        else if (to - from > maxRange)
            Error("from", $"the range from..to may span at most {maxRange.TotalDays:0.##} days");
        return (from, to);
    }

    public WindowSize Resolution(WindowSize fallback)
    {
        var text = Raw("resolution");
        if (string.IsNullOrEmpty(text))
            return fallback;
        switch (text)
        {
            case "1m": return WindowSize.OneMinute;
            case "15m": return WindowSize.FifteenMinutes;
            default:
                Error("resolution", $"must be 1m or 15m (got '{Truncate(text)}')");
                return fallback;
        }
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var text = Raw(name);
        if (string.IsNullOrEmpty(text))
            return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Error(name, $"must be an integer from {min} to {max} (got '{Truncate(text)}')");
            return fallback;
        }
        return value;
    }

    public static bool HasZone(string text) => ZoneSuffix().IsMatch(text);

    /// <summary>limit and offset of a page; offset at most 100 000 so a page never makes the database skip millions of rows.</summary>
    public (int Limit, int Offset) Page(GatewayOptions options) =>
        (Int("limit", options.DefaultPageSize, 1, options.MaxPageSize), Int("offset", 0, 0, 100_000));

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";

    [GeneratedRegex(@"(Z|z|[+-]\d{2}:?\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex ZoneSuffix();
}
