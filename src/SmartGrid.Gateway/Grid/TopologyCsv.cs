using System.Globalization;
using System.Text;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Grid;

/// <summary>
/// The import file: a header naming meter_id, transformer_id, feeder_id and region (any order),
/// optionally transformer_rated_kw and feeder_rated_kw, then one placement per line. Cells are never
/// quoted: no valid id or number contains a comma or a quote, so a line that would need quoting is
/// malformed and refused alone, like any line whose cells do not match the header.
/// </summary>
internal static class TopologyCsv
{
    public static readonly string[] Required = ["meter_id", "transformer_id", "feeder_id", "region"];
    public static readonly string[] Optional = ["transformer_rated_kw", "feeder_rated_kw"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines to import and the lines refused while reading; or the problem when the file as a whole is unusable.</summary>
    public static (List<TopologyImportRow> Rows, List<TopologyImportResult> Refused, IResult? Problem) Parse(MemoryStream body, int maxLines)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(body.GetBuffer(), 0, (int)body.Length).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            return ([], [], Problems.Field("body", "is not UTF-8 text"));
        }
        var lines = text.Split('\n');
        var header = lines[0].TrimEnd('\r').Split(',').Select(c => c.Trim().ToLowerInvariant()).ToArray();
        if (HeaderError(header) is { } headerError)
            return ([], [], Problems.Field("header", headerError));
        var column = header.Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i, StringComparer.Ordinal);

        var rows = new List<TopologyImportRow>();
        var refused = new List<TopologyImportResult>();
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
                continue;
            if (rows.Count + refused.Count == maxLines)
                return ([], [], Problems.Field("body", $"holds more than {maxLines} lines; split the file"));
            var cells = line.Split(',').Select(c => c.Trim()).ToArray();
            var number = i + 1;
            if (cells.Length != header.Length)
            {
                refused.Add(Refuse(number, cells[0], "line", $"has {cells.Length} cells, the header {header.Length}"));
                continue;
            }
            var errors = new List<FieldError>();
            var meterId = cells[column["meter_id"]];
            if (!Identifiers.IsMeterId(meterId))
                errors.Add(new("meter_id", Identifiers.MeterIdRule));
            var transformerRating = Rating(cells, column, "transformer_rated_kw", errors);
            var feederRating = Rating(cells, column, "feeder_rated_kw", errors);
            if (errors.Count > 0)
            {
                refused.Add(new(number, Shorten(meterId), PlacementOutcome.Refused, errors));
                continue;
            }
            rows.Add(new(number, meterId, cells[column["transformer_id"]], cells[column["feeder_id"]], cells[column["region"]], transformerRating, feederRating));
        }
        return (rows, refused, null);
    }

    private static string? HeaderError(string[] header)
    {
        if (Required.FirstOrDefault(r => !header.Contains(r)) is { } missing)
            return $"must name {string.Join(", ", Required)} (optionally {string.Join(", ", Optional)}); '{missing}' is missing";
        if (header.FirstOrDefault(h => !Required.Contains(h) && !Optional.Contains(h)) is { } unknown)
            return $"'{Shorten(unknown)}' is not a column; known: {string.Join(", ", Required.Concat(Optional))}";
        return header.Distinct(StringComparer.Ordinal).Count() != header.Length ? "names a column twice" : null;
    }

    private static double? Rating(string[] cells, Dictionary<string, int> column, string name, List<FieldError> errors)
    {
        if (!column.TryGetValue(name, out var index) || cells[index].Length == 0)
            return null;
        if (double.TryParse(cells[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var kw) && kw > 0 && kw <= 1_000_000)
            return kw;
        errors.Add(new(name, "must be a number of kW above 0 and at most 1000000"));
        return null;
    }

    private static TopologyImportResult Refuse(int line, string meterId, string field, string reason) =>
        new(line, Shorten(meterId), PlacementOutcome.Refused, [new(field, reason)]);

    /// <summary>What the answer echoes of a cell: a hostile file's 100 kB "id" comes back as 64 characters.</summary>
    public static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
