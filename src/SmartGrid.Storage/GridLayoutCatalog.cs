using Npgsql;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Storage;

/// <summary>
/// The tree below the regions (grid_nodes, meter_placements with their history) as one immutable <see cref="GridLayout"/>,
/// for the region actors, which read it at each emission and never query. Reloaded whole every
/// <see cref="RefreshInterval"/> by the node (<see cref="RunRefreshAsync"/>) and at once after every change
/// <see cref="TopologyStore"/> makes, so an import in this process applies to the next window published.
/// Whole, history included: a replay of last week sums by last week's placements.
/// </summary>
public sealed class GridLayoutCatalog(NpgsqlDataSource dataSource, TimeProvider? time = null) : IDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile GridLayout _current = GridLayout.Empty;

    /// <summary>The layout as last loaded, without I/O (empty before the first load).</summary>
    public GridLayout Current => _current;

    public async Task<GridLayout> RefreshAsync(CancellationToken ct = default)
    {
        await _loading.WaitAsync(ct);
        try
        {
            var loadedAt = _time.GetUtcNow();
            var nodes = new List<GridNodeRating>();
            var placements = new List<PlacementSpan>();
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            // One snapshot for both tables: a move seen without its node (or the reverse) would misplace a meter.
            await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            await using (var cmd = Db.Command(conn, tx, "SELECT node_id, kind, region, parent_id, rated_kw FROM grid_nodes"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    nodes.Add(new GridNodeRating(reader.GetString(0), Topology.ParseKind(reader.GetString(1)), reader.GetString(2), reader.GetString(3), reader.GetDouble(4)));
            }
            await using (var cmd = Db.Command(conn, tx, "SELECT meter_id, transformer_id, valid_from, valid_to FROM meter_placements"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    placements.Add(new PlacementSpan(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
            }
            await tx.CommitAsync(ct);
            return _current = new GridLayout(nodes, placements, loadedAt);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Reloads every <see cref="RefreshInterval"/> until cancelled; a failed load keeps the last layout and is reported.</summary>
    public Task RunRefreshAsync(Action<Exception> onError, CancellationToken ct) =>
        PeriodicReload.RunAsync(RefreshInterval, _time, RefreshAsync, onError, ct);

    public void Dispose() => _loading.Dispose();
}
