using SmartGrid.Domain.Grid;
using SmartGrid.Domain.PowerQuality;

namespace SmartGrid.Storage;

/// <summary>A row of voltage_10m: one meter's 10-minute voltage window (EN 50160).</summary>
public sealed record VoltageWindowRow(string MeterId, string Region, DateTimeOffset WindowStart, int SampleCount, double Mean, double? Min, double? Max);

/// <summary>The power-quality read side: voltage_10m and voltage_events, for one meter or every meter of a region.</summary>
public sealed partial class AggregateQueries
{
    /// <summary>Windows with window_start in [from, to), by meter then start; <paramref name="meterId"/> or <paramref name="region"/> picks them.</summary>
    public Task<IReadOnlyList<VoltageWindowRow>> GetVoltageWindowsAsync(string? meterId, string? region,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        var (column, value) = Owner(meterId, region);
        return ReadAsync(
            $"""
            SELECT meter_id, region, window_start, sample_count, voltage_mean, voltage_min, voltage_max FROM voltage_10m
            WHERE {column} = $1 AND window_start >= $2 AND window_start < $3
            ORDER BY meter_id, window_start
            """,
            [Sql.Value(value), Sql.Value(from.ToUniversalTime()), Sql.Value(to.ToUniversalTime())],
            ReadWindow, ct);
    }

    /// <summary>Sags, swells and interruptions that overlap [from, to) (still open ones included), oldest first.</summary>
    public Task<IReadOnlyList<VoltageEvent>> GetVoltageEventsAsync(string? meterId, string? region,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default)
    {
        var (column, value) = Owner(meterId, region);
        return ReadAsync(
            $"""
            SELECT meter_id, region, kind, start_at, end_at, extreme_voltage, nominal_voltage FROM voltage_events
            WHERE {column} = $1 AND start_at < $3 AND (end_at IS NULL OR end_at > $2)
            ORDER BY start_at, meter_id
            """,
            [Sql.Value(value), Sql.Value(from.ToUniversalTime()), Sql.Value(to.ToUniversalTime())],
            ReadEvent, ct);
    }

    /// <summary>
    /// The windows of every meter under <paramref name="node"/>, each only while the meter was placed
    /// there (a meter that moved counts under each transformer for its own time); a region's are its meters'.
    /// </summary>
    public Task<IReadOnlyList<VoltageWindowRow>> GetVoltageWindowsAsync(GridNode node, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default) =>
        node.Kind == GridNodeKind.Region
            ? GetVoltageWindowsAsync(null, node.Id, from, to, ct)
            : ReadAsync(
                $"""
                SELECT v.meter_id, v.region, v.window_start, v.sample_count, v.voltage_mean, v.voltage_min, v.voltage_max
                FROM voltage_10m v {PlacedUnder(node.Kind, "v.meter_id", "v.window_start")} AND v.window_start >= $2 AND v.window_start < $3
                ORDER BY v.meter_id, v.window_start
                """,
                [Sql.Value(node.Id), Sql.Value(from.ToUniversalTime()), Sql.Value(to.ToUniversalTime())],
                ReadWindow, ct);

    /// <summary>The events of the meters under <paramref name="node"/> that started while they were placed there.</summary>
    public Task<IReadOnlyList<VoltageEvent>> GetVoltageEventsAsync(GridNode node, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default) =>
        node.Kind == GridNodeKind.Region
            ? GetVoltageEventsAsync(null, node.Id, from, to, ct)
            : ReadAsync(
                $"""
                SELECT e.meter_id, e.region, e.kind, e.start_at, e.end_at, e.extreme_voltage, e.nominal_voltage
                FROM voltage_events e {PlacedUnder(node.Kind, "e.meter_id", "e.start_at")} AND e.start_at < $3 AND (e.end_at IS NULL OR e.end_at > $2)
                ORDER BY e.start_at, e.meter_id
                """,
                [Sql.Value(node.Id), Sql.Value(from.ToUniversalTime()), Sql.Value(to.ToUniversalTime())],
                ReadEvent, ct);

    /// <summary>Joins the rows to the placements their time falls in and keeps those under node $1; the arguments are constants, never input.</summary>
    private static string PlacedUnder(GridNodeKind kind, string meterColumn, string timeColumn) =>
        $"""
        JOIN meter_placements p ON p.meter_id = {meterColumn} AND {timeColumn} >= p.valid_from AND (p.valid_to IS NULL OR {timeColumn} < p.valid_to)
        JOIN grid_nodes t ON t.node_id = p.transformer_id
        WHERE {TopologyStore.UnderColumn(kind)} = $1
        """;

    private static VoltageWindowRow ReadWindow(Npgsql.NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt32(3), r.GetDouble(4),
            r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetDouble(6));

    private static VoltageEvent ReadEvent(Npgsql.NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), VoltageWindow.ParseKind(r.GetString(2)), r.GetFieldValue<DateTimeOffset>(3),
            r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), r.GetDouble(5), r.GetDouble(6));

    /// <summary>The column to filter on; only ever one of two constants, never input.</summary>
    private static (string Column, string Value) Owner(string? meterId, string? region) =>
        (meterId, region) switch
        {
            ({ Length: > 0 } m, null) => ("meter_id", m),
            (null, { Length: > 0 } g) => ("region", g),
            _ => throw new ArgumentException("Exactly one of meterId and region is required."),
        };
}
