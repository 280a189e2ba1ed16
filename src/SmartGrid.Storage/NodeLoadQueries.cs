using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>
/// One load window of a grid node: the sum of the average power of the meters placed under it that
/// reported into the window, how many did, how many were placed under it at the window's start, and
/// the load in percent of the node's rating (null for a region read on demand: the caller rates it).
/// </summary>
public sealed record NodeLoadRow(DateTimeOffset WindowStart, double TotalPowerKw, int MeterCount, int ExpectedMeters, double? LoadPercent = null);

/// <summary>A node's load: a transformer's or feeder's as stored, a region's from the per-meter windows through the placements.</summary>
public sealed partial class AggregateQueries
{
    /// <summary>
    /// The load windows of <paramref name="node"/> with window_start in [from, to), oldest first. A transformer's or a
    /// feeder's are the windows its region published (grid_node_aggregates_1m / _15m, written exactly once by the regional
    /// projection); a region's are derived on read from aggregates_1m / aggregates_15m, a meter counting in a window when
    /// the window starts during its placement in the region's tree.
    /// </summary>
    public Task<IReadOnlyList<NodeLoadRow>> GetNodeLoadAsync(GridNode node, WindowSize size, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Kind != GridNodeKind.Region)
            return ReadPeriodAsync(
                $"""
                SELECT window_start, total_power_kw, meter_count, expected_meters, load_percent
                FROM {RegionalAggregateStore.NodeTableOf(size).Name}
                WHERE node_id = $1 AND window_start >= $2 AND window_start < $3
                ORDER BY window_start
                """,
                node.Id, from, to,
                r => new NodeLoadRow(r.GetFieldValue<DateTimeOffset>(0), r.GetDouble(1), r.GetInt32(2), r.GetInt32(3), r.GetDouble(4)), ct);
        return ReadPeriodAsync(
            $"""
            WITH placed AS (
                SELECT p.meter_id, p.valid_from, p.valid_to
                FROM meter_placements p JOIN grid_nodes t ON t.node_id = p.transformer_id
                WHERE {TopologyStore.UnderColumn(node.Kind)} = $1 AND p.valid_from < $3 AND (p.valid_to IS NULL OR p.valid_to > $2)
            ), windows AS (
                SELECT a.window_start, sum(a.power_kw_avg) AS total_power_kw, count(*)::int AS meter_count
                FROM {AggregateStore.TableOf(size).Name} a
                JOIN placed p ON p.meter_id = a.meter_id AND a.window_start >= p.valid_from AND (p.valid_to IS NULL OR a.window_start < p.valid_to)
                WHERE a.window_start >= $2 AND a.window_start < $3
                GROUP BY a.window_start
            )
            SELECT w.window_start, w.total_power_kw, w.meter_count,
                (SELECT count(DISTINCT p.meter_id)::int FROM placed p
                 WHERE p.valid_from <= w.window_start AND (p.valid_to IS NULL OR p.valid_to > w.window_start))
            FROM windows w ORDER BY w.window_start
            """,
            node.Id, from, to,
            r => new NodeLoadRow(r.GetFieldValue<DateTimeOffset>(0), r.GetDouble(1), r.GetInt32(2), r.GetInt32(3)), ct);
    }
}
