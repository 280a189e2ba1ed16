using Npgsql;
using SmartGrid.Domain.Telemetry;
using Xunit.Abstractions;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>Reads the aggregate tables and compares every row with the ground truth.</summary>
public static class PipelineAssertions
{
    private sealed record DbRow(string MeterId, string Region, DateTimeOffset WindowStart, int Count, double EnergySum, double PowerSum,
        double PowerMin, double PowerMax, double VoltageSum, double CurrentSum);

    /// <summary>Polls until the tables agree with the truth or the deadline passes, then asserts the last state row by row.</summary>
    public static async Task WaitForTruthAsync(string connectionString, GroundTruth truth, TimeSpan deadline, ITestOutputHelper output)
    {
        var until = DateTime.UtcNow + deadline;
        List<string> problems;
        do
        {
            problems = await CompareAsync(connectionString, truth);
            if (problems.Count == 0) return;
            await Task.Delay(1000);
        } while (DateTime.UtcNow < until);
        foreach (var p in problems.Take(30)) output.WriteLine(p);
        Assert.Fail($"{problems.Count} difference(s) from the ground truth after {deadline}; first: {problems[0]}");
    }

    public static async Task<List<string>> CompareAsync(string connectionString, GroundTruth truth)
    {
        var problems = new List<string>();
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await CompareMeterRowsAsync(conn, "aggregates_1m", truth.OneMinute, problems);
        await CompareMeterRowsAsync(conn, "aggregates_15m", truth.FifteenMinutes, problems);
        await CompareRegionalAsync(conn, "regional_aggregates_1m", GroundTruth.Regional(truth.OneMinute), problems);
        await CompareRegionalAsync(conn, "regional_aggregates_15m", GroundTruth.Regional(truth.FifteenMinutes), problems);
        await CompareVoltageAsync(conn, truth, problems);
        if (truth.Placed is { } tree)
        {
            await CompareNodesAsync(conn, "grid_node_aggregates_1m", GroundTruth.Nodes(truth.OneMinute, tree), problems);
            await CompareNodesAsync(conn, "grid_node_aggregates_15m", GroundTruth.Nodes(truth.FifteenMinutes, tree), problems);
        }
        return problems;
    }

    /// <summary>voltage_10m, voltage_events and customer_interruptions, row by row.</summary>
    private static async Task CompareVoltageAsync(NpgsqlConnection conn, GroundTruth truth, List<string> problems)
    {
        var windows = new Dictionary<(string, DateTimeOffset), (int Count, double Sum, double? Min, double? Max)>();
        await using (var cmd = new NpgsqlCommand("SELECT meter_id, window_start, sample_count, voltage_sum, voltage_min, voltage_max FROM voltage_10m", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                windows[(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1))] = (reader.GetInt32(2), reader.GetDouble(3),
                    reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetDouble(5));
        foreach (var (key, e) in truth.Voltage10m)
        {
            if (!windows.TryGetValue(key, out var a)) problems.Add($"voltage_10m: missing {key}");
            else if (a.Count != e.Count || !GroundTruth.Close(e.Sum, a.Sum) || a.Min != e.Min || a.Max != e.Max)
                problems.Add($"voltage_10m {key}: {a} differs from {e}");
        }
        if (windows.Count != truth.Voltage10m.Count) problems.Add($"voltage_10m: {windows.Count} rows, expected {truth.Voltage10m.Count}");

        var events = new Dictionary<(string, DateTimeOffset), (string Kind, DateTimeOffset? End, double Extreme)>();
        await using (var cmd = new NpgsqlCommand("SELECT meter_id, start_at, kind, end_at, extreme_voltage FROM voltage_events", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                events[(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1))] = (reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.GetDouble(4));
        foreach (var (key, e) in truth.VoltageEvents)
        {
            if (!events.TryGetValue(key, out var a)) problems.Add($"voltage_events: missing {key}");
            else if (a != e) problems.Add($"voltage_events {key}: {a} differs from {e}");
        }
        if (events.Count != truth.VoltageEvents.Count) problems.Add($"voltage_events: {events.Count} rows, expected {truth.VoltageEvents.Count}");

        var interruptions = new Dictionary<(string, DateTimeOffset), (string StartedBy, DateTimeOffset? End)>();
        await using (var cmd = new NpgsqlCommand("SELECT meter_id, start_at, started_by, end_at FROM customer_interruptions", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                interruptions[(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1))] = (reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
        foreach (var (key, e) in truth.Interruptions)
        {
            if (!interruptions.TryGetValue(key, out var a)) problems.Add($"customer_interruptions: missing {key}");
            else if (a != e) problems.Add($"customer_interruptions {key}: {a} differs from {e}");
        }
        if (interruptions.Count != truth.Interruptions.Count)
            problems.Add($"customer_interruptions: {interruptions.Count} rows, expected {truth.Interruptions.Count}");
    }

    private static async Task CompareMeterRowsAsync(NpgsqlConnection conn, string table,
        Dictionary<(string Meter, DateTimeOffset Start), GroundTruth.Row> expected, List<string> problems)
    {
        var actual = new Dictionary<(string, DateTimeOffset), DbRow>();
        await using (var cmd = new NpgsqlCommand($"""
            SELECT meter_id, region, window_start, reading_count, energy_kwh_sum, power_kw_sum, power_kw_min, power_kw_max,
                   voltage_sum, current_sum FROM {table}
            """, conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
            {
                var row = new DbRow(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt32(3),
                    reader.GetDouble(4), reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetDouble(8), reader.GetDouble(9));
                actual[(row.MeterId, row.WindowStart)] = row;
            }
        foreach (var (key, e) in expected)
        {
            if (!actual.TryGetValue(key, out var a)) { problems.Add($"{table}: missing {key}"); continue; }
            if (a.Count != e.Count) problems.Add($"{table} {key}: count {a.Count}, expected {e.Count}");
            else if (a.Region != e.Region || !GroundTruth.Close(e.EnergySum, a.EnergySum) || !GroundTruth.Close(e.PowerSum, a.PowerSum)
                     || !GroundTruth.Close(e.PowerMin, a.PowerMin) || !GroundTruth.Close(e.PowerMax, a.PowerMax)
                     || !GroundTruth.Close(e.VoltageSum, a.VoltageSum) || !GroundTruth.Close(e.CurrentSum, a.CurrentSum))
                problems.Add($"{table} {key}: {a} differs from {e}");
        }
        foreach (var key in actual.Keys.Where(k => !expected.ContainsKey(k)))
            problems.Add($"{table}: unexpected row {key}");
    }

    private static async Task CompareNodesAsync(NpgsqlConnection conn, string table, IReadOnlyList<GroundTruth.NodeRow> expected, List<string> problems)
    {
        var actual = new Dictionary<(string, DateTimeOffset), GroundTruth.NodeRow>();
        await using (var cmd = new NpgsqlCommand($"SELECT node_id, window_start, meter_count, expected_meters, total_power_kw, load_percent FROM {table}", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
            {
                var row = new GroundTruth.NodeRow(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2),
                    reader.GetInt32(3), reader.GetDouble(4), reader.GetDouble(5));
                actual[(row.NodeId, row.WindowStart)] = row;
            }
        foreach (var e in expected)
        {
            if (!actual.TryGetValue((e.NodeId, e.WindowStart), out var a)) { problems.Add($"{table}: missing {e.NodeId} {e.WindowStart:O}"); continue; }
            if (a.MeterCount != e.MeterCount || a.ExpectedMeters != e.ExpectedMeters
                || !GroundTruth.Close(e.TotalPowerKw, a.TotalPowerKw) || !GroundTruth.Close(e.LoadPercent, a.LoadPercent))
                problems.Add($"{table} {e.NodeId} {e.WindowStart:O}: {a} differs from {e}");
        }
        if (actual.Count != expected.Count) problems.Add($"{table}: {actual.Count} rows, expected {expected.Count}");
    }

    private static async Task CompareRegionalAsync(NpgsqlConnection conn, string table, IReadOnlyList<GroundTruth.RegionalRow> expected, List<string> problems)
    {
        var actual = new Dictionary<(string, DateTimeOffset), GroundTruth.RegionalRow>();
        await using (var cmd = new NpgsqlCommand($"SELECT region, window_start, meter_count, reading_count, total_power_kw, energy_kwh_sum FROM {table}", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync())
            {
                var row = new GroundTruth.RegionalRow(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2),
                    reader.GetInt32(3), reader.GetDouble(4), reader.GetDouble(5));
                actual[(row.Region, row.WindowStart)] = row;
            }
        foreach (var e in expected)
        {
            if (!actual.TryGetValue((e.Region, e.WindowStart), out var a)) { problems.Add($"{table}: missing {e.Region} {e.WindowStart:O}"); continue; }
            if (a.MeterCount != e.MeterCount || a.ReadingCount != e.ReadingCount
                || !GroundTruth.Close(e.TotalPowerKw, a.TotalPowerKw) || !GroundTruth.Close(e.EnergySum, a.EnergySum))
                problems.Add($"{table} {e.Region} {e.WindowStart:O}: {a} differs from {e}");
        }
        if (actual.Count != expected.Count) problems.Add($"{table}: {actual.Count} rows, expected {expected.Count}");
    }
}
