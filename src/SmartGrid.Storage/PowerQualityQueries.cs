using Npgsql;
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
        ReadOwnedAsync(meterId, region, from, to,
            column => $"""
            SELECT meter_id, region, window_start, sample_count, voltage_mean, voltage_min, voltage_max FROM voltage_10m
            WHERE {column} = $1 AND window_start >= $2 AND window_start < $3
            ORDER BY meter_id, window_start
            """,
            r => new VoltageWindowRow(r.GetString(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt32(3), r.GetDouble(4),
                r.IsDBNull(5) ? null : r.GetDouble(5), r.IsDBNull(6) ? null : r.GetDouble(6)),
            ct);

    /// <summary>Sags, swells and interruptions that overlap [from, to) (still open ones included), oldest first.</summary>
    public Task<IReadOnlyList<VoltageEvent>> GetVoltageEventsAsync(string? meterId, string? region,
        DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        ReadOwnedAsync(meterId, region, from, to,
            column => $"""
            SELECT meter_id, region, kind, start_at, end_at, extreme_voltage, nominal_voltage FROM voltage_events
            WHERE {column} = $1 AND start_at < $3 AND (end_at IS NULL OR end_at > $2)
            ORDER BY start_at, meter_id
            """,
            r => new VoltageEvent(r.GetString(0), r.GetString(1), VoltageWindow.ParseKind(r.GetString(2)), r.GetFieldValue<DateTimeOffset>(3),
                r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), r.GetDouble(5), r.GetDouble(6)),
            ct);

    /// <summary>
    /// Rows of one meter or of a region's meters over a period: <paramref name="sql"/> gets the column to filter on and
    /// takes the owner as $1, <paramref name="from"/> as $2 and <paramref name="to"/> as $3.
    /// </summary>
    private Task<IReadOnlyList<T>> ReadOwnedAsync<T>(string? meterId, string? region, DateTimeOffset from, DateTimeOffset to,
        Func<string, string> sql, Func<NpgsqlDataReader, T> map, CancellationToken ct,
        [System.Runtime.CompilerServices.CallerMemberName] string query = "")
    {
        var (column, value) = Owner(meterId, region);
        return ReadAsync(sql(column), [Sql.Value(value), Sql.Value(from.ToUniversalTime()), Sql.Value(to.ToUniversalTime())], map, ct, query);
    }

    /// <summary>The column to filter on; only ever one of two constants, never input.</summary>
    private static (string Column, string Value) Owner(string? meterId, string? region) =>
        (meterId, region) switch
        {
            ({ Length: > 0 } m, null) => ("meter_id", m),
            (null, { Length: > 0 } g) => ("region", g),
            _ => throw new ArgumentException("Exactly one of meterId and region is required."),
        };
}
