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
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        GetVoltageWindowsAsync(MetersOf.MeterOrRegion(meterId, region), from, to, ct);

    /// <summary>Sags, swells and interruptions that overlap [from, to) (still open ones included), oldest first.</summary>
    public Task<IReadOnlyList<VoltageEvent>> GetVoltageEventsAsync(string? meterId, string? region,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        GetVoltageEventsAsync(MetersOf.MeterOrRegion(meterId, region), from, to, ct);

    /// <summary>
    /// The windows of every meter under <paramref name="node"/>, each only while the meter was placed
    /// there (a meter that moved counts under each transformer for its own time); a region's are its meters'.
    /// </summary>
    public Task<IReadOnlyList<VoltageWindowRow>> GetVoltageWindowsAsync(GridNode node, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default) =>
        GetVoltageWindowsAsync(MetersOf.PlacedUnder(node), from, to, ct);

    /// <summary>The events of the meters under <paramref name="node"/> that started while they were placed there.</summary>
    public Task<IReadOnlyList<VoltageEvent>> GetVoltageEventsAsync(GridNode node, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default) =>
        GetVoltageEventsAsync(MetersOf.PlacedUnder(node), from, to, ct);

    private Task<IReadOnlyList<VoltageWindowRow>> GetVoltageWindowsAsync(MetersOf meters, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct) =>
        ReadPeriodAsync(
            $"""
            SELECT v.meter_id, v.region, v.window_start, v.sample_count, v.voltage_mean, v.voltage_min, v.voltage_max
            FROM voltage_10m v {meters.Where("v", "v.window_start")} AND v.window_start >= $2 AND v.window_start < $3
            ORDER BY v.meter_id, v.window_start
            """,
            meters.Id, from, to, ReadWindow, ct);

    private Task<IReadOnlyList<VoltageEvent>> GetVoltageEventsAsync(MetersOf meters, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct) =>
        ReadPeriodAsync(
            $"""
            SELECT e.meter_id, e.region, e.kind, e.start_at, e.end_at, e.extreme_voltage, e.nominal_voltage
            FROM voltage_events e {meters.Where("e", "e.start_at")} AND e.start_at < $3 AND (e.end_at IS NULL OR e.end_at > $2)
            ORDER BY e.start_at, e.meter_id
            """,
            meters.Id, from, to, ReadEvent, ct);

    private static VoltageWindowRow ReadWindow(Npgsql.NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt32(3), r.GetDouble(4),
            r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetDouble(6));

    private static VoltageEvent ReadEvent(Npgsql.NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), VoltageWindow.ParseKind(r.GetString(2)), r.GetFieldValue<DateTimeOffset>(3),
            r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), r.GetDouble(5), r.GetDouble(6));

    /// <summary>
    /// Whose rows a query reads, as $1: one meter's (<see cref="Under"/> null), a region's, or those of the meters placed
    /// under a feeder or transformer while they were placed there. The SQL it adds is made of constants, never of input.
    /// </summary>
    private sealed record MetersOf(string Id, GridNodeKind? Under)
    {
        public static MetersOf MeterOrRegion(string? meterId, string? region) =>
            (meterId, region) switch
            {
                ({ Length: > 0 } m, null) => new(m, null),
                (null, { Length: > 0 } g) => new(g, GridNodeKind.Region),
                _ => throw new ArgumentException("Exactly one of meterId and region is required."),
            };

        public static MetersOf PlacedUnder(GridNode node) => new(node.Id, node.Kind);

        /// <summary>The filter on the table named <paramref name="alias"/>; a row counts under the placement its <paramref name="timeColumn"/> falls in.</summary>
        public string Where(string alias, string timeColumn) => Under switch
        {
            null => $"WHERE {alias}.meter_id = $1",
            GridNodeKind.Region => $"WHERE {alias}.region = $1",
            { } kind => $"""
                JOIN meter_placements p ON p.meter_id = {alias}.meter_id AND {timeColumn} >= p.valid_from AND (p.valid_to IS NULL OR {timeColumn} < p.valid_to)
                JOIN grid_nodes t ON t.node_id = p.transformer_id
                WHERE {TopologyStore.UnderColumn(kind)} = $1
                """,
        };
    }
}
