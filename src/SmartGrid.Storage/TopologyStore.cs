using Npgsql;
using NpgsqlTypes;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage;

/// <summary>A node of the grid as stored: a region (the substation level), a feeder or a transformer.</summary>
/// <param name="ParentId">A feeder's region, a transformer's feeder; null for a region.</param>
/// <param name="RatedKw">The rating load percentages are measured against (a region's capacity_kw).</param>
public sealed record GridNode(string Id, GridNodeKind Kind, string? ParentId, string Region, double RatedKw);

/// <summary>A meter under a transformer during [ValidFrom, ValidTo); ValidTo null while it is still there.</summary>
public sealed record MeterPlacement(string MeterId, string TransformerId, DateTimeOffset ValidFrom, DateTimeOffset? ValidTo);

/// <summary>One line of a topology import: place the meter under the transformer, on the feeder, in the region.</summary>
/// <param name="TransformerRatedKw">Creates the transformer when it does not exist yet (ignored when it does).</param>
/// <param name="FeederRatedKw">Creates the feeder when it does not exist yet (ignored when it does).</param>
public sealed record TopologyImportRow(int Line, string MeterId, string TransformerId, string FeederId, string Region,
    double? TransformerRatedKw = null, double? FeederRatedKw = null);

public enum PlacementOutcome { Placed, Moved, Unchanged, Refused }

/// <summary>What became of one import line; <see cref="Errors"/> name the CSV column at fault when it was refused.</summary>
public sealed record TopologyImportResult(int Line, string MeterId, PlacementOutcome Outcome, IReadOnlyList<FieldError> Errors);

public enum TopologyChange { Done, NotFound, Conflict }

/// <summary>
/// The grid's topology (<c>grid_nodes</c>, <c>meter_placements</c>) beside the regions. Every
/// change runs under one transaction-scoped advisory lock, so imports and edits never interleave
/// and each sees the tree the previous one left.
/// </summary>
public sealed class TopologyStore
{
    private const string NodeColumns = "node_id, kind, parent_id, region, rated_kw";

    private readonly NpgsqlDataSource _dataSource;
    private readonly GridLayoutCatalog? _layout;

    /// <param name="layout">Reloaded after every change, so this process's region actors sum by it from their next window.</param>
    public TopologyStore(NpgsqlDataSource dataSource, GridLayoutCatalog? layout = null) => (_dataSource, _layout) = (dataSource, layout);

    /// <summary>The change is committed whatever happens here: a layout that fails to load now is loaded by the node's timer.</summary>
    private async Task ReloadLayoutAsync(CancellationToken ct)
    {
        try
        {
            if (_layout is not null)
                await _layout.RefreshAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
        }
    }

    /// <summary>The node named <paramref name="id"/> in any case: a feeder, a transformer or a region; null when none.</summary>
    public async Task<GridNode?> FindNodeAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await using var cmd = Db.Command(_dataSource,
            $"""
            SELECT {NodeColumns} FROM grid_nodes WHERE lower(node_id) = lower($1)
            UNION ALL
            SELECT name, 'region', NULL, name, capacity_kw FROM regions WHERE lower(name) = lower($1)
            """,
            id);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadNode(reader) : null;
    }

    /// <summary>
    /// The placements of meters under <paramref name="node"/> (directly, or through its feeders and
    /// transformers) that overlap [<paramref name="from"/>, <paramref name="to"/>), by meter then start.
    /// A meter that moved within the period appears once per placement; the periods tell which
    /// readings of it belong to the node.
    /// </summary>
    public async Task<IReadOnlyList<MeterPlacement>> MetersUnderAsync(GridNode node, DateTimeOffset from, DateTimeOffset to,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        await using var cmd = Db.Command(_dataSource,
            $"""
            SELECT p.meter_id, p.transformer_id, p.valid_from, p.valid_to
            FROM meter_placements p JOIN grid_nodes t ON t.node_id = p.transformer_id
            WHERE {UnderColumn(node.Kind)} = $1 AND p.valid_from < $3 AND (p.valid_to IS NULL OR p.valid_to > $2)
            ORDER BY p.meter_id, p.valid_from
            """,
            node.Id, from, to);
        return await ReadPlacementsAsync(cmd, ct);
    }

    /// <summary>The meters under <paramref name="node"/> during [from, to): <see cref="MetersUnderAsync"/> counted once per meter.</summary>
    public async Task<int> CountMetersUnderAsync(GridNode node, DateTimeOffset from, DateTimeOffset to, CancellationToken ct = default) =>
        (await MetersUnderAsync(node, from, to, ct)).Select(p => p.MeterId).Distinct(StringComparer.Ordinal).Count();

    /// <summary>The column of a placement's transformer row that names a node of <paramref name="kind"/>; one of three constants, never input.</summary>
    internal static string UnderColumn(GridNodeKind kind) => kind switch
    {
        GridNodeKind.Transformer => "t.node_id",
        GridNodeKind.Feeder => "t.parent_id",
        GridNodeKind.Region => "t.region",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Every feeder and transformer of <paramref name="regions"/> (all regions when null), by region, kind and id.</summary>
    public async Task<IReadOnlyList<GridNode>> NodesAsync(IReadOnlyCollection<string>? regions, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource,
            $"SELECT {NodeColumns} FROM grid_nodes WHERE $1::text[] IS NULL OR region = ANY ($1) ORDER BY region, kind, node_id",
            Db.Array(regions?.ToArray(), NpgsqlDbType.Text));
        var nodes = new List<GridNode>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            nodes.Add(ReadNode(reader));
        return nodes;
    }

    /// <summary>The placements of <paramref name="regions"/>' meters in force at <paramref name="at"/>, by transformer then meter.</summary>
    public async Task<IReadOnlyList<MeterPlacement>> PlacementsAtAsync(IReadOnlyCollection<string>? regions, DateTimeOffset at,
        CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource,
            """
            SELECT p.meter_id, p.transformer_id, p.valid_from, p.valid_to
            FROM meter_placements p JOIN grid_nodes t ON t.node_id = p.transformer_id
            WHERE ($1::text[] IS NULL OR t.region = ANY ($1)) AND p.valid_from <= $2 AND (p.valid_to IS NULL OR p.valid_to > $2)
            ORDER BY p.transformer_id, p.meter_id
            """,
            Db.Array(regions?.ToArray(), NpgsqlDbType.Text), at);
        return await ReadPlacementsAsync(cmd, ct);
    }

    /// <summary>A meter's placements, oldest first.</summary>
    public async Task<IReadOnlyList<MeterPlacement>> PlacementsOfAsync(string meterId, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource,
            "SELECT meter_id, transformer_id, valid_from, valid_to FROM meter_placements WHERE meter_id = $1 ORDER BY valid_from", meterId);
        return await ReadPlacementsAsync(cmd, ct);
    }

    /// <summary>
    /// Creates a feeder or transformer. <see cref="TopologyChange.Conflict"/> when a node or region
    /// of that id exists in any case; the error names the field at fault when the parent is missing,
    /// retired, or of the wrong kind. The spec must pass <see cref="Topology.Check"/>.
    /// </summary>
    public async Task<(TopologyChange Outcome, GridNode? Node, FieldError? Error)> CreateNodeAsync(GridNodeSpec spec, CancellationToken ct = default)
    {
        if (Topology.Check(spec) is { Count: > 0 } invalid)
            throw new ArgumentException($"{invalid[0].Field} {invalid[0].Reason}", nameof(spec));
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var tree = await TreeState.LoadAsync(conn, tx, ct);
        if (tree.Taken(spec.Id))
            return (TopologyChange.Conflict, null, new("id", $"'{spec.Id}' names a node or region already (ids are unique regardless of case across every level)"));
        var (region, error) = tree.ParentOf(spec.Kind, spec.ParentId);
        if (error is not null)
            return (TopologyChange.NotFound, null, error);
        var node = new GridNode(spec.Id, spec.Kind, spec.Kind == GridNodeKind.Feeder ? region : tree.Nodes[spec.ParentId].Id, region!, spec.RatedKw);
        await InsertNodesAsync(conn, tx, [node], ct);
        await tx.CommitAsync(ct);
        await ReloadLayoutAsync(ct);
        return (TopologyChange.Done, node, null);
    }

    /// <summary>
    /// Changes a node's rating and, for a transformer, its feeder (within its region: its meters
    /// stay in their region). Null arguments keep the value.
    /// </summary>
    public async Task<(TopologyChange Outcome, GridNode? Node, FieldError? Error)> UpdateNodeAsync(string id, double? ratedKw, string? feederId,
        CancellationToken ct = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var tree = await TreeState.LoadAsync(conn, tx, ct);
        if (!tree.Nodes.TryGetValue(id, out var node))
            return (TopologyChange.NotFound, null, null);
        var parent = node.ParentId;
        if (feederId is not null)
        {
            if (node.Kind != GridNodeKind.Transformer)
                return (TopologyChange.Conflict, null, new("feeder_id", "only a transformer changes feeder; a feeder stays in its region"));
            if (!tree.Nodes.TryGetValue(feederId, out var feeder) || feeder.Kind != GridNodeKind.Feeder)
                return (TopologyChange.Conflict, null, new("feeder_id", $"no feeder '{feederId}'"));
            if (!string.Equals(feeder.Region, node.Region, StringComparison.Ordinal))
                return (TopologyChange.Conflict, null, new("feeder_id", $"feeder '{feeder.Id}' is in region '{feeder.Region}', not '{node.Region}'"));
            parent = feeder.Id;
        }
        var updated = node with { ParentId = parent, RatedKw = ratedKw ?? node.RatedKw };
        await using (var cmd = Db.Command(conn, tx, "UPDATE grid_nodes SET parent_id = $2, rated_kw = $3, updated_at = now() WHERE node_id = $1",
            node.Id, updated.ParentId!, updated.RatedKw))
            await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        await ReloadLayoutAsync(ct);
        return (TopologyChange.Done, updated, null);
    }

    /// <summary>Deletes a node nothing hangs on and no meter was ever placed under (history names it otherwise).</summary>
    public async Task<(TopologyChange Outcome, string? Reason)> DeleteNodeAsync(string id, CancellationToken ct = default)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var tree = await TreeState.LoadAsync(conn, tx, ct);
        if (!tree.Nodes.TryGetValue(id, out var node))
            return (TopologyChange.NotFound, null);
        await using (var used = Db.Command(conn, tx,
            """
            SELECT (SELECT count(*) FROM grid_nodes WHERE parent_id = $1), (SELECT count(*) FROM meter_placements WHERE transformer_id = $1)
            """, node.Id))
        {
            await using var reader = await used.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var (children, placements) = (reader.GetInt64(0), reader.GetInt64(1));
            if (children > 0 || placements > 0)
                return (TopologyChange.Conflict, children > 0
                    ? $"{children} transformer(s) hang on feeder '{node.Id}'; move or delete them first"
                    : $"meters were placed under transformer '{node.Id}' ({placements} placement(s)); its history keeps it");
        }
        await using (var delete = Db.Command(conn, tx, "DELETE FROM grid_nodes WHERE node_id = $1", node.Id))
            await delete.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        await ReloadLayoutAsync(ct);
        return (TopologyChange.Done, null);
    }

    /// <summary>
    /// Applies an import at <paramref name="validFrom"/>: each line places its meter under its
    /// transformer from then on (closing where it was), creating a missing feeder or transformer
    /// that the line rates, and registering a meter not registered yet in the line's region. A line
    /// that contradicts the stored tree or another line is refused alone; the others apply. Importing
    /// the same file again changes nothing (every line answers Unchanged).
    /// </summary>
    public async Task<IReadOnlyList<TopologyImportResult>> ImportAsync(IReadOnlyList<TopologyImportRow> rows, DateTimeOffset validFrom,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        validFrom = validFrom.ToUniversalTime();
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var tree = await TreeState.LoadAsync(conn, tx, ct);
        var meterIds = rows.Select(r => r.MeterId).Where(Topology.IsValidId).Distinct(StringComparer.Ordinal).ToArray();
        var meters = await MeterStateAsync(conn, tx, meterIds, ct);

        var results = new List<TopologyImportResult>(rows.Count);
        var newNodes = new List<GridNode>();
        var newMeters = new List<(string MeterId, string Region)>();
        var placements = new List<(string MeterId, string TransformerId)>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var errors = new List<FieldError>();
            var (transformer, outcome) = seen.TryGetValue(row.MeterId, out var earlier)
                ? (null, PlacementOutcome.Refused)
                : PlanRow(row, tree, meters, validFrom, errors);
            if (transformer is null)
            {
                if (errors.Count == 0)
                    errors.Add(new("meter_id", $"meter '{row.MeterId}' is on line {earlier} already"));
                // A refused line creates nothing: a later line cannot hang on a node it named.
                tree.DropCreated();
                results.Add(new(row.Line, row.MeterId, PlacementOutcome.Refused, errors));
                if (Topology.IsValidId(row.MeterId))
                    seen.TryAdd(row.MeterId, row.Line);
                continue;
            }
            seen[row.MeterId] = row.Line;
            newNodes.AddRange(tree.TakeCreated());
            if (!meters.TryGetValue(row.MeterId, out var meter) || meter.Region is null)
            {
                newMeters.Add((row.MeterId, transformer.Region));
                meters[row.MeterId] = new MeterState(transformer.Region, null, null, null);
            }
            if (outcome != PlacementOutcome.Unchanged)
                placements.Add((row.MeterId, transformer.Id));
            results.Add(new(row.Line, row.MeterId, outcome, []));
        }

        await InsertNodesAsync(conn, tx, newNodes, ct);
        await RegisterMetersAsync(conn, tx, newMeters, ct);
        await PlaceAsync(conn, tx, placements, validFrom, ct);
        await tx.CommitAsync(ct);
        await ReloadLayoutAsync(ct);
        return results;
    }

    /// <summary>Checks one import line against the tree (adding the nodes it creates) and says where the meter goes, or why not.</summary>
    private static (GridNode? Transformer, PlacementOutcome Outcome) PlanRow(TopologyImportRow row, TreeState tree,
        Dictionary<string, MeterState> meters, DateTimeOffset validFrom, List<FieldError> errors)
    {
        if (!Topology.IsValidId(row.MeterId))
            errors.Add(new("meter_id", Topology.IdRule));
        if (!Topology.IsValidId(row.TransformerId))
            errors.Add(new("transformer_id", Topology.IdRule));
        if (!Topology.IsValidId(row.FeederId))
            errors.Add(new("feeder_id", Topology.IdRule));
        var region = tree.Regions.GetValueOrDefault(row.Region);
        if (region is null)
            errors.Add(new("region", $"'{Shorten(row.Region)}' is not a region"));
        else if (region.Retired)
            errors.Add(new("region", $"region '{region.Name}' is retired"));
        if (errors.Count > 0)
            return (null, PlacementOutcome.Refused);
        var meter = meters.GetValueOrDefault(row.MeterId);
        if (meter?.Region is { } registered && !string.Equals(registered, region!.Name, StringComparison.Ordinal))
        {
            errors.Add(new("region", $"meter '{row.MeterId}' is registered in region '{registered}', not '{region.Name}'"));
            return (null, PlacementOutcome.Refused);
        }

        var feeder = tree.Resolve(row.FeederId, GridNodeKind.Feeder, region!.Name, row.FeederRatedKw, "feeder_id", "feeder_rated_kw", errors);
        if (feeder is null)
            return (null, PlacementOutcome.Refused);
        var transformer = tree.Resolve(row.TransformerId, GridNodeKind.Transformer, feeder.Id, row.TransformerRatedKw, "transformer_id",
            "transformer_rated_kw", errors, region.Name);
        if (transformer is null)
            return (null, PlacementOutcome.Refused);

        if (meter?.OpenTransformer is { } current && string.Equals(current, transformer.Id, StringComparison.Ordinal))
            return (transformer, PlacementOutcome.Unchanged);
        // Placements only move forward: history before the newest one is kept as it was.
        var latest = meter?.OpenFrom is { } open && (meter.ClosedUntil is not { } closed || open > closed) ? open : meter?.ClosedUntil;
        if (latest > validFrom)
        {
            errors.Add(new("valid_from", $"meter '{row.MeterId}' has a placement from {latest:O}, after {validFrom:O}"));
            return (null, PlacementOutcome.Refused);
        }
        return (transformer, meter?.OpenTransformer is null ? PlacementOutcome.Placed : PlacementOutcome.Moved);
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    /// <summary>A meter's registered region and placements as an import sees them.</summary>
    private sealed record MeterState(string? Region, string? OpenTransformer, DateTimeOffset? OpenFrom, DateTimeOffset? ClosedUntil);

    private static async Task<Dictionary<string, MeterState>> MeterStateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string[] meterIds,
        CancellationToken ct)
    {
        await using var cmd = Db.Command(conn, tx,
            """
            SELECT i.meter_id, m.region, o.transformer_id, o.valid_from, c.until
            FROM unnest($1::text[]) AS i(meter_id)
            LEFT JOIN meters m ON m.meter_id = i.meter_id
            LEFT JOIN meter_placements o ON o.meter_id = i.meter_id AND o.valid_to IS NULL
            LEFT JOIN LATERAL (SELECT max(valid_to) AS until FROM meter_placements WHERE meter_id = i.meter_id) c ON true
            """,
            Db.Array(meterIds, NpgsqlDbType.Text));
        var state = new Dictionary<string, MeterState>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            state[reader.GetString(0)] = new MeterState(reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
        }
        return state;
    }

    private static async Task InsertNodesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<GridNode> nodes, CancellationToken ct)
    {
        if (nodes.Count == 0)
            return;
        await using var cmd = Db.Command(conn, tx,
            """
            INSERT INTO grid_nodes (node_id, kind, parent_id, region, rated_kw)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[])
            """,
            Db.Array(nodes.Select(n => n.Id).ToArray(), NpgsqlDbType.Text),
            Db.Array(nodes.Select(n => n.Kind.Name()).ToArray(), NpgsqlDbType.Text),
            Db.Array(nodes.Select(n => n.ParentId!).ToArray(), NpgsqlDbType.Text),
            Db.Array(nodes.Select(n => n.Region).ToArray(), NpgsqlDbType.Text),
            Db.Array(nodes.Select(n => n.RatedKw).ToArray(), NpgsqlDbType.Double));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task RegisterMetersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<(string MeterId, string Region)> meters,
        CancellationToken ct)
    {
        if (meters.Count == 0)
            return;
        // Registered by the operator's import, not auto-provisioned; a meter registered meanwhile keeps its region (the import checked it under the lock).
        await using var cmd = Db.Command(conn, tx,
            """
            INSERT INTO meters (meter_id, region, registered_at, auto_provisioned)
            SELECT meter_id, region, now(), false FROM unnest($1::text[], $2::text[]) AS u(meter_id, region)
            ON CONFLICT (meter_id) DO NOTHING
            """,
            Db.Array(meters.Select(m => m.MeterId).ToArray(), NpgsqlDbType.Text), Db.Array(meters.Select(m => m.Region).ToArray(), NpgsqlDbType.Text));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task PlaceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<(string MeterId, string TransformerId)> placements,
        DateTimeOffset validFrom, CancellationToken ct)
    {
        if (placements.Count == 0)
            return;
        // Each statement its own parameters: a parameter belongs to one command.
        object?[] Placed() => [Db.Array(placements.Select(p => p.MeterId).ToArray(), NpgsqlDbType.Text),
            Db.Array(placements.Select(p => p.TransformerId).ToArray(), NpgsqlDbType.Text), validFrom];
        // A placement that starts at the same instant is a correction of it, not a move: it is replaced.
        await using var cmd = Db.Command(conn, tx,
            """
            WITH input AS (SELECT * FROM unnest($1::text[], $2::text[]) AS u(meter_id, transformer_id)),
            replaced AS (
                DELETE FROM meter_placements p USING input i WHERE p.meter_id = i.meter_id AND p.valid_from = $3
            ),
            closed AS (
                UPDATE meter_placements p SET valid_to = $3 FROM input i
                WHERE p.meter_id = i.meter_id AND p.valid_to IS NULL AND p.valid_from < $3
            )
            SELECT 1
            """,
            Placed());
        await cmd.ExecuteNonQueryAsync(ct);

        // A second statement: the exclusion constraint checks against the rows the first one closed.
        await using var insert = Db.Command(conn, tx,
            """
            INSERT INTO meter_placements (meter_id, transformer_id, valid_from)
            SELECT meter_id, transformer_id, $3 FROM unnest($1::text[], $2::text[]) AS u(meter_id, transformer_id)
            """,
            Placed());
        await insert.ExecuteNonQueryAsync(ct);
    }

    private static async Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = Db.Command(conn, tx, $"SELECT pg_advisory_xact_lock({AdvisoryLocks.Topology})");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static GridNode ReadNode(NpgsqlDataReader r) =>
        new(r.GetString(0), Topology.ParseKind(r.GetString(1)), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3), r.GetDouble(4));

    private static async Task<IReadOnlyList<MeterPlacement>> ReadPlacementsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var placements = new List<MeterPlacement>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            placements.Add(ReadPlacement(reader));
        return placements;
    }

    private static MeterPlacement ReadPlacement(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2), r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3));

    /// <summary>The regions and nodes as a change sees them under the lock, plus the nodes it creates on the way.</summary>
    private sealed class TreeState
    {
        private readonly List<GridNode> _created = [];

        private TreeState(Dictionary<string, RegionRow> regions, Dictionary<string, GridNode> nodes) => (Regions, Nodes) = (regions, nodes);

        public Dictionary<string, RegionRow> Regions { get; }
        public Dictionary<string, GridNode> Nodes { get; }

        public static async Task<TreeState> LoadAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
        {
            var regions = new Dictionary<string, RegionRow>(StringComparer.OrdinalIgnoreCase);
            await using (var cmd = Db.Command(conn, tx, "SELECT name, retired_at IS NOT NULL FROM regions"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    regions[reader.GetString(0)] = new RegionRow(reader.GetString(0), reader.GetBoolean(1));
            }
            var nodes = new Dictionary<string, GridNode>(StringComparer.OrdinalIgnoreCase);
            await using (var cmd = Db.Command(conn, tx, $"SELECT {NodeColumns} FROM grid_nodes"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var node = ReadNode(reader);
                    nodes[node.Id] = node;
                }
            }
            return new TreeState(regions, nodes);
        }

        public bool Taken(string id) => Regions.ContainsKey(id) || Nodes.ContainsKey(id);

        /// <summary>The region a node of <paramref name="kind"/> under <paramref name="parentId"/> belongs to, or the error naming the parent's field.</summary>
        public (string? Region, FieldError? Error) ParentOf(GridNodeKind kind, string parentId)
        {
            if (kind == GridNodeKind.Feeder)
            {
                return Regions.GetValueOrDefault(parentId) switch
                {
                    null => (null, new("region", $"'{Shorten(parentId)}' is not a region")),
                    { Retired: true } r => (null, new("region", $"region '{r.Name}' is retired")),
                    var r => (r.Name, null),
                };
            }
            return Nodes.GetValueOrDefault(parentId) is { Kind: GridNodeKind.Feeder } feeder
                ? (feeder.Region, null)
                : (null, new("feeder_id", $"no feeder '{Shorten(parentId)}'"));
        }

        /// <summary>
        /// The existing node <paramref name="id"/> if it hangs where the line says, else a new one
        /// when the line rates it (kept until <see cref="TakeCreated"/>), else null with the error.
        /// </summary>
        public GridNode? Resolve(string id, GridNodeKind kind, string parentId, double? ratedKw, string field, string ratingField,
            List<FieldError> errors, string? region = null)
        {
            region ??= parentId;
            if (Nodes.TryGetValue(id, out var node))
            {
                if (node.Kind != kind)
                    errors.Add(new(field, $"'{node.Id}' is a {node.Kind.Name()}, not a {kind.Name()}"));
                else if (!string.Equals(node.ParentId, parentId, kind == GridNodeKind.Feeder ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
                    errors.Add(new(field, $"{kind.Name()} '{node.Id}' hangs on '{node.ParentId}', not '{parentId}'"));
                return errors.Count == 0 ? node : null;
            }
            if (Regions.ContainsKey(id))
            {
                errors.Add(new(field, $"'{id}' is a region's name"));
                return null;
            }
            if (ratedKw is not (> 0) || double.IsInfinity(ratedKw.Value))
            {
                errors.Add(new(ratedKw is null ? field : ratingField,
                    ratedKw is null ? $"no {kind.Name()} '{id}'; create it first or give {ratingField}" : "must be a positive number of kW"));
                return null;
            }
            var created = new GridNode(id, kind, parentId, region, ratedKw.Value);
            Nodes[id] = created;
            _created.Add(created);
            return created;
        }

        /// <summary>The nodes created since the last call, to be written with the line that created them.</summary>
        public GridNode[] TakeCreated()
        {
            var created = _created.ToArray();
            _created.Clear();
            return created;
        }

        /// <summary>Forgets nodes a refused line created, so a later line cannot hang on them.</summary>
        public void DropCreated()
        {
            foreach (var node in _created)
                Nodes.Remove(node.Id);
            _created.Clear();
        }
    }

    private sealed record RegionRow(string Name, bool Retired);
}
