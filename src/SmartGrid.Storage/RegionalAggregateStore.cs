using Npgsql;
using NpgsqlTypes;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>
/// Writes regional windows to <c>regional_aggregates_1m</c> / <c>regional_aggregates_15m</c>
/// (by size), and the transformers' and feeders' windows published with them to
/// <c>grid_node_aggregates_1m</c> / <c>_15m</c>. A later version of (region or node, window_start)
/// replaces the row; with a checkpoint, the projection's offset is stored in the same transaction as the rows.
/// </summary>
public sealed class RegionalAggregateStore(NpgsqlDataSource dataSource, PartitionMaintenance partitions)
{
    /// <summary>UPSERTs the rows (the later of two versions of a window in the batch wins) and the checkpoint, atomically.</summary>
    public Task UpsertAsync(IReadOnlyList<RegionalAggregate> rows, ProjectionCheckpoint? checkpoint, CancellationToken ct = default) =>
        UpsertAsync(rows, [], checkpoint, ct);

    /// <summary>As above, with the node windows (each with its revision), in the same transaction.</summary>
    public async Task UpsertAsync(IReadOnlyList<RegionalAggregate> rows, IReadOnlyList<(GridNodeAggregate Node, int Revision)> nodes,
        ProjectionCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(nodes);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var after = nodes.GroupBy(n => n.Node.Size)
            .Select(g => (NodeTableOf(g.Key), g.DistinctBy(n => (n.Node.NodeId, n.Node.WindowStart)).ToList()))
            .Select(t => ((TimeSeriesTable?)t.Item1, (IReadOnlyList<DateTimeOffset>)t.Item2.Select(n => n.Node.WindowStart).ToArray(),
                (Func<NpgsqlBatchCommand>)(() => NodeUpsert(t.Item2).Build(t.Item1))))
            .ToList();
        await ProjectionBatch.UpsertWindowsAsync(dataSource, partitions, rows, r => TableOf(r.Size),
            r => (r.Region, r.WindowStart.ToUniversalTime()), r => r.WindowStart, Upsert, after, checkpoint, ct);
        StorageMetrics.Written("regional_aggregates", rows.Count, started);
        if (nodes.Count > 0)
            StorageMetrics.Written("grid_node_aggregates", nodes.Count, started);
    }

    internal static TimeSeriesTable NodeTableOf(WindowSize size) =>
        TimeSeriesTable.OfSize(size, TimeSeriesTable.GridNodeAggregates1m, TimeSeriesTable.GridNodeAggregates15m);

    private static UnnestUpsert<(GridNodeAggregate Node, int Revision)> NodeUpsert(IReadOnlyList<(GridNodeAggregate Node, int Revision)> rows) =>
        new UnnestUpsert<(GridNodeAggregate Node, int Revision)>(rows)
            .Key("node_id", "text", NpgsqlDbType.Text, r => r.Node.NodeId)
            .Key("window_start", "timestamptz", NpgsqlDbType.TimestampTz, r => r.Node.WindowStart.ToUniversalTime())
            .Column("kind", "text", NpgsqlDbType.Text, r => r.Node.Kind.Name())
            .Column("region", "text", NpgsqlDbType.Text, r => r.Node.Region)
            .Column("window_end", "timestamptz", NpgsqlDbType.TimestampTz, r => r.Node.WindowEnd.ToUniversalTime())
            .Column("meter_count", "int4", NpgsqlDbType.Integer, r => r.Node.MeterCount)
            .Column("expected_meters", "int4", NpgsqlDbType.Integer, r => r.Node.ExpectedMeters)
            .Column("total_power_kw", "float8", NpgsqlDbType.Double, r => r.Node.TotalPowerKw)
            .Column("rated_kw", "float8", NpgsqlDbType.Double, r => r.Node.RatedKw)
            .Column("load_percent", "float8", NpgsqlDbType.Double, r => r.Node.LoadPercent)
            .Column("revision", "int4", NpgsqlDbType.Integer, r => r.Revision);

    internal static TimeSeriesTable TableOf(WindowSize size) =>
        TimeSeriesTable.OfSize(size, TimeSeriesTable.RegionalAggregates1m, TimeSeriesTable.RegionalAggregates15m);

    private static UnnestUpsert<RegionalAggregate> Upsert(IReadOnlyList<RegionalAggregate> rows) => new UnnestUpsert<RegionalAggregate>(rows)
        .Key("region", "text", NpgsqlDbType.Text, r => r.Region)
        .Key("window_start", "timestamptz", NpgsqlDbType.TimestampTz, r => r.WindowStart.ToUniversalTime())
        .Column("window_end", "timestamptz", NpgsqlDbType.TimestampTz, r => r.WindowEnd.ToUniversalTime())
        .Column("meter_count", "int4", NpgsqlDbType.Integer, r => r.MeterCount)
        .Column("total_power_kw", "float8", NpgsqlDbType.Double, r => r.TotalPowerKw)
        .Column("avg_power_kw", "float8", NpgsqlDbType.Double, r => r.AvgPowerKw)
        .Column("energy_kwh_sum", "float8", NpgsqlDbType.Double, r => r.EnergyKwhSum)
        .Column("reading_count", "int4", NpgsqlDbType.Integer, r => r.ReadingCount)
        .Column("capacity_kw", "float8", NpgsqlDbType.Double, r => r.CapacityKw)
        .Column("load_percent", "float8", NpgsqlDbType.Double, r => r.LoadPercent);
}
