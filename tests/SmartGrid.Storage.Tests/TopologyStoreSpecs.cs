using SmartGrid.Domain.Grid;

namespace SmartGrid.Storage.Tests;

public sealed class TopologyStoreSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);

    private TopologyStore Store => db.Storage.Topology;

    public async Task InitializeAsync() => await RegionCatalog.SeedIfEmptyAsync(db.Storage.DataSource, Regions.Defaults);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Should_import_a_tree_and_answer_each_nodes_kind_rating_parent_region_and_meters()
    {
        using var catalog = new RegionCatalog(db.Storage.DataSource);
        await catalog.CreateAsync(new RegionSpec("Satara", 1_200), "spec");
        var results = await Store.ImportAsync(
        [
            new(2, "MTR-A1", "TR-A1", "FD-A", "Satara", 100, 2_000),
            new(3, "MTR-A2", "TR-A1", "FD-A", "satara"),
            new(4, "MTR-A3", "TR-A2", "FD-A", "Satara", 150),
        ], T0);

        Assert.All(results, r => Assert.Equal(PlacementOutcome.Placed, r.Outcome));
        Assert.Equal(new GridNode("TR-A1", GridNodeKind.Transformer, "FD-A", "Satara", 100), await Store.FindNodeAsync("tr-a1"));
        Assert.Equal(new GridNode("FD-A", GridNodeKind.Feeder, "Satara", "Satara", 2_000), await Store.FindNodeAsync("FD-A"));
        Assert.Equal(new GridNode("Satara", GridNodeKind.Region, null, "Satara", 1_200), await Store.FindNodeAsync("SATARA"));
        Assert.Null(await Store.FindNodeAsync("TR-NOPE"));

        var day = (T0, T0.AddDays(1));
        Assert.Equal(["MTR-A1", "MTR-A2"], await MetersUnder("TR-A1", day));
        Assert.Equal(["MTR-A1", "MTR-A2", "MTR-A3"], await MetersUnder("FD-A", day));
        Assert.Equal(["MTR-A1", "MTR-A2", "MTR-A3"], await MetersUnder("Satara", day));
        Assert.Empty(await MetersUnder("TR-A1", (T0.AddDays(-1), T0)));
        // An import registers a meter it is the first to name, as the operator's (not auto-provisioned).
        Assert.Equal("Satara", await db.ScalarAsync<string>("SELECT region FROM meters WHERE meter_id = 'MTR-A2' AND NOT auto_provisioned"));
    }

    [Fact]
    public async Task Should_change_nothing_when_the_same_file_is_imported_again()
    {
        TopologyImportRow[] file = [new(2, "MTR-B1", "TR-B1", "FD-B", "Pune-West", 100, 1_000), new(3, "MTR-B2", "TR-B1", "FD-B", "Pune-West")];
        await Store.ImportAsync(file, T0);
        var placements = await db.ScalarAsync<long>("SELECT count(*) FROM meter_placements WHERE meter_id LIKE 'MTR-B%'");

        var again = await Store.ImportAsync(file, T0.AddHours(5));

        Assert.All(again, r => Assert.Equal(PlacementOutcome.Unchanged, r.Outcome));
        Assert.Equal(placements, await db.ScalarAsync<long>("SELECT count(*) FROM meter_placements WHERE meter_id LIKE 'MTR-B%'"));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM grid_nodes WHERE node_id = 'TR-B1'"));
    }

    [Fact]
    public async Task Should_keep_where_a_meter_was_when_it_moves()
    {
        await Store.ImportAsync([new(2, "MTR-M1", "TR-M1", "FD-M", "Mumbai-North", 100, 1_000), new(3, "MTR-M0", "TR-M2", "FD-M", "Mumbai-North", 80)], T0);
        var moved = T0.AddHours(6);

        var results = await Store.ImportAsync([new(2, "MTR-M1", "TR-M2", "FD-M", "Mumbai-North")], moved);

        Assert.Equal(PlacementOutcome.Moved, Assert.Single(results).Outcome);
        Assert.Equal(["MTR-M1"], await MetersUnder("TR-M1", (T0, moved)));
        Assert.Empty(await MetersUnder("TR-M1", (moved, moved.AddHours(1))));
        Assert.Equal(["MTR-M0", "MTR-M1"], await MetersUnder("TR-M2", (moved, moved.AddHours(1))));
        Assert.Equal(["MTR-M0"], await MetersUnder("TR-M2", (T0, moved)));
        // Across the move the feeder holds the meter twice, once per placement, with the periods that tell its readings apart.
        var feeder = (await Store.MetersUnderAsync((await Store.FindNodeAsync("FD-M"))!, T0, moved.AddHours(1))).Where(p => p.MeterId == "MTR-M1").ToArray();
        Assert.Equal([("TR-M1", T0, (DateTimeOffset?)moved), ("TR-M2", moved, null)], feeder.Select(p => (p.TransformerId, p.ValidFrom, p.ValidTo)));

        // History is not rewritten: a move dated before the newest placement is refused.
        var back = Assert.Single(await Store.ImportAsync([new(2, "MTR-M1", "TR-M1", "FD-M", "Mumbai-North")], moved.AddHours(-1)));
        Assert.Equal(PlacementOutcome.Refused, back.Outcome);
        Assert.Equal("valid_from", Assert.Single(back.Errors).Field);
        Assert.Equal(2, (await Store.PlacementsOfAsync("MTR-M1")).Count);
    }

    [Fact]
    public async Task Should_refuse_each_hostile_line_alone_and_apply_the_others()
    {
        await new MeterRegistry(db.Storage.DataSource).EnsureRegisteredAsync([("MTR-H-MUMBAI", "Mumbai-Central")]);
        await Store.ImportAsync([new(1, "MTR-H0", "TR-H1", "FD-H", "Nashik", 100, 1_000), new(1, "MTR-H00", "TR-HX", "FD-HX", "Pune-West", 100, 1_000)], T0);

        var results = await Store.ImportAsync(
        [
            new(2, "MTR-H1", "TR-H1", "FD-H", "Nashik"),
            new(3, "MTR-H-MUMBAI", "TR-H1", "FD-H", "Nashik"),
            new(4, "MTR-H2'; DROP TABLE meters; --", "TR-H1", "FD-H", "Nashik"),
            new(5, "MTR-H3", "TR-NEW", "FD-H", "Nashik"),
            new(6, "MTR-H4", "TR-HX", "FD-H", "Nashik"),
            new(7, "MTR-H1", "TR-H1", "FD-H", "Nashik"),
            new(8, "MTR-H5", "Nashik", "FD-H", "Nashik", 50),
            new(9, "MTR-H6", "TR-H9", "FD-H", "Atlantis", 50),
            new(10, "MTR-H7", "TR-H7", "FD-H7", "Nashik", 50, -1),
            new(11, "MTR-H8", "TR-H7", "FD-H7", "Nashik", 50),
            new(12, "MTR-H9", "FD-H", "FD-H", "Nashik"),
        ], T0.AddHours(1));

        Assert.Equal(PlacementOutcome.Placed, results[0].Outcome);
        Assert.All(results.Skip(1), r => Assert.Equal(PlacementOutcome.Refused, r.Outcome));
        Assert.Equal(["region", "meter_id", "transformer_id", "transformer_id", "meter_id", "transformer_id", "region", "feeder_rated_kw", "feeder_id", "transformer_id"],
            results.Skip(1).Select(r => Assert.Single(r.Errors).Field));
        Assert.Contains("registered in region 'Mumbai-Central'", results[1].Errors[0].Reason);
        Assert.Equal(["MTR-H0", "MTR-H1"], await MetersUnder("TR-H1", (T0, T0.AddDays(1))));
        // The refused line 10 created nothing, so line 11 could not hang on its feeder.
        Assert.Null(await Store.FindNodeAsync("FD-H7"));
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM meters") > 0);
    }

    [Fact]
    public async Task Should_create_update_and_delete_nodes_level_by_level()
    {
        var (created, feeder, _) = await Store.CreateNodeAsync(new GridNodeSpec("FD-C", GridNodeKind.Feeder, "mumbai-central", 3_000));
        Assert.Equal(TopologyChange.Done, created);
        Assert.Equal("Mumbai-Central", feeder!.Region);
        Assert.Equal(TopologyChange.Done, (await Store.CreateNodeAsync(new GridNodeSpec("TR-C1", GridNodeKind.Transformer, "fd-c", 250))).Outcome);
        Assert.Equal("FD-C", (await Store.FindNodeAsync("TR-C1"))!.ParentId);

        var (twice, _, twiceError) = await Store.CreateNodeAsync(new GridNodeSpec("tr-c1", GridNodeKind.Transformer, "FD-C", 250));
        Assert.Equal((TopologyChange.Conflict, "id"), (twice, twiceError!.Field));
        Assert.Equal(TopologyChange.Conflict, (await Store.CreateNodeAsync(new GridNodeSpec("Nashik", GridNodeKind.Feeder, "Nashik", 1))).Outcome);
        Assert.Equal("feeder_id", (await Store.CreateNodeAsync(new GridNodeSpec("TR-C2", GridNodeKind.Transformer, "TR-C1", 1))).Error!.Field);
        Assert.Equal("region", (await Store.CreateNodeAsync(new GridNodeSpec("FD-C2", GridNodeKind.Feeder, "Atlantis", 1))).Error!.Field);

        var (updated, node, _) = await Store.UpdateNodeAsync("TR-C1", 315, null);
        Assert.Equal((TopologyChange.Done, 315.0), (updated, node!.RatedKw));
        Assert.Equal(315.0, (await Store.FindNodeAsync("TR-C1"))!.RatedKw);

        Assert.Equal(TopologyChange.Conflict, (await Store.DeleteNodeAsync("FD-C")).Outcome);
        Assert.Equal(TopologyChange.Done, (await Store.DeleteNodeAsync("TR-C1")).Outcome);
        Assert.Equal(TopologyChange.Done, (await Store.DeleteNodeAsync("FD-C")).Outcome);
        Assert.Equal(TopologyChange.NotFound, (await Store.DeleteNodeAsync("FD-C")).Outcome);
    }

    [Fact]
    public async Task Should_refuse_overlapping_placements_in_the_database_itself()
    {
        await Store.ImportAsync([new(2, "MTR-X1", "TR-X1", "FD-X", "Nashik", 100, 1_000)], T0);

        var e = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.ExecuteAsync(
            $"INSERT INTO meter_placements (meter_id, transformer_id, valid_from) VALUES ('MTR-X1', 'TR-X1', '{T0.AddDays(1):O}')"));
        Assert.Equal("meter_placements_no_overlap", e.ConstraintName);
    }

    private async Task<string[]> MetersUnder(string nodeId, (DateTimeOffset From, DateTimeOffset To) period) =>
        (await Store.MetersUnderAsync((await Store.FindNodeAsync(nodeId))!, period.From, period.To)).Select(p => p.MeterId).Distinct().Order(StringComparer.Ordinal).ToArray();
}
