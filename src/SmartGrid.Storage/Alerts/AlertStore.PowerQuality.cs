using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.PowerQuality;

namespace SmartGrid.Storage.Alerts;

/// <summary>A meter's 10-minute voltage means over a period, as counts (<see cref="VoltageCompliance.OfCounts"/>), against its region's nominal.</summary>
public sealed record MeterVoltageSummary(string MeterId, string Region, double Nominal, VoltageCompliance Compliance);

/// <summary>The power-quality alerts' reads: voltage_10m and voltage_events, and the open POWER_QUALITY and SWELL alerts.</summary>
public sealed partial class AlertStore
{
    /// <summary>
    /// Every meter with 10-minute means in [from, to): how many, how many within ±10 % and ±5 % of its region's nominal
    /// (default 230 V), the lowest and the highest. The bounds are computed as <see cref="VoltageCompliance"/> computes them.
    /// </summary>
    public async Task<IReadOnlyList<MeterVoltageSummary>> VoltageSummariesAsync(DateTimeOffset from, DateTimeOffset to)
    {
        var summaries = new List<MeterVoltageSummary>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, """
            SELECT v.meter_id, v.region, n.nominal, count(*)::int,
                   (count(*) FILTER (WHERE v.voltage_mean >= (1 - $3::float8) * n.nominal AND v.voltage_mean <= (1 + $3::float8) * n.nominal))::int,
                   (count(*) FILTER (WHERE v.voltage_mean >= (1 - $4::float8) * n.nominal AND v.voltage_mean <= (1 + $4::float8) * n.nominal))::int,
                   min(v.voltage_mean), max(v.voltage_mean)
            FROM voltage_10m v
            CROSS JOIN LATERAL (SELECT coalesce((SELECT r.nominal_voltage FROM regions r WHERE r.name = v.region), 230)::float8 AS nominal) n
            WHERE v.window_start >= $1 AND v.window_start < $2
            GROUP BY v.meter_id, v.region, n.nominal
            """, from.ToUniversalTime(), to.ToUniversalTime(), VoltageBands.Band, VoltageBands.RangeA);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var nominal = reader.GetDouble(2);
            summaries.Add(new MeterVoltageSummary(reader.GetString(0), reader.GetString(1), nominal, VoltageCompliance.OfCounts(
                reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetDouble(6), reader.GetDouble(7), nominal)));
        }
        return summaries;
    }

    /// <summary>Swells that started at or after <paramref name="since"/>, oldest first.</summary>
    public async Task<IReadOnlyList<VoltageEvent>> SwellsSinceAsync(DateTimeOffset since)
    {
        var swells = new List<VoltageEvent>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, """
            SELECT meter_id, region, start_at, end_at, extreme_voltage, nominal_voltage FROM voltage_events
            WHERE kind = 'swell' AND start_at >= $1 ORDER BY start_at, meter_id
            """, since.ToUniversalTime());
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            swells.Add(new VoltageEvent(reader.GetString(0), reader.GetString(1), VoltageEventKind.Swell, reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.GetDouble(4), reader.GetDouble(5)));
        return swells;
    }

    /// <summary>Open alerts of <paramref name="type"/> about a meter: id, region, meter and when last seen.</summary>
    public async Task<IReadOnlyList<(Guid AlertId, string Region, string MeterId, DateTimeOffset LastSeenAt)>> OpenMeterAlertsAsync(AlertType type)
    {
        var open = new List<(Guid, string, string, DateTimeOffset)>();
        await using var connection = await db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null,
            "SELECT alert_id, region, meter_id, last_seen_at FROM alerts WHERE type = $1 AND meter_id IS NOT NULL AND status <> 'resolved'", type.ToWireName());
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            open.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        return open;
    }
}
