using Npgsql;

namespace SmartGrid.Storage.Tests;

/// <summary>Hands out fresh, not yet existing databases; drops them all at the end.</summary>
public sealed class FreshDatabases : PostgresDatabase
{
    public override Task InitializeAsync() => Task.CompletedTask;
}

public sealed class MigrationSpecs(FreshDatabases databases) : IClassFixture<FreshDatabases>
{
    private static readonly string[] TimeSeriesTables =
        ["aggregates_15m", "aggregates_1m", "raw_readings", "regional_aggregates_15m", "regional_aggregates_1m", "grid_node_aggregates_1m", "grid_node_aggregates_15m"];

    [Fact]
    public async Task Should_create_database_apply_all_scripts_and_apply_nothing_on_rerun()
    {
        var cs = databases.NewDatabaseConnectionString();

        var first = DatabaseMigrator.Migrate(cs);
        var second = DatabaseMigrator.Migrate(cs);

        Assert.Equal(DatabaseMigrator.ScriptNames, first);
        Assert.Empty(second);
        Assert.Equal(DatabaseMigrator.ScriptNames.Count, await ScalarAsync<long>(cs, "SELECT count(*) FROM schemaversions"));
        // Later features add their own tables; these are the ones the pipeline's migrations own.
        Assert.Superset(
            new HashSet<string>(["aggregates_15m", "aggregates_1m", "meters", "projection_offsets", "raw_readings",
             "regional_aggregates_15m", "regional_aggregates_1m", "schemaversions", "storage_settings"]),
            (await ListAsync(cs, "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname")).ToHashSet());
    }

    [Fact]
    public async Task Should_use_native_range_partitioning_when_timescaledb_is_not_available()
    {
        var cs = databases.NewDatabaseConnectionString();
        DatabaseMigrator.Migrate(cs);

        var timescaleUsable = await ScalarAsync<bool>(cs,
            "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') " +
            "AND current_setting('shared_preload_libraries') LIKE '%timescaledb%'");
        Assert.False(timescaleUsable, "this test covers the native path; the server here offers TimescaleDB");

        Assert.Equal("native", await ScalarAsync<string>(cs, "SELECT value FROM storage_settings WHERE key = 'time_series_mode'"));
        Assert.Equal(
            ["aggregates_15m:r:window_start", "aggregates_1m:r:window_start", "grid_node_aggregates_15m:r:window_start",
             "grid_node_aggregates_1m:r:window_start", "raw_readings:r:ts",
             "regional_aggregates_15m:r:window_start", "regional_aggregates_1m:r:window_start", "voltage_10m:r:window_start"],
            await ListAsync(cs,
                """
                SELECT c.relname || ':' || p.partstrat::text || ':' || a.attname
                FROM pg_partitioned_table p
                JOIN pg_class c ON c.oid = p.partrelid
                JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                ORDER BY c.relname
                """));
        // No partition exists until PartitionMaintenance makes one: a write without it must fail, not vanish.
        Assert.Equal(0L, await ScalarAsync<long>(cs,
            $"SELECT count(*) FROM pg_inherits WHERE inhparent::regclass::text = ANY (ARRAY['{string.Join("','", TimeSeriesTables)}'])"));
    }

    [Fact]
    public async Task Should_migrate_once_when_several_processes_start_at_the_same_time()
    {
        var cs = databases.NewDatabaseConnectionString();

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DatabaseMigrator.Migrate(cs))));

        Assert.Single(runs, applied => applied.Count == DatabaseMigrator.ScriptNames.Count);
        Assert.Equal(3, runs.Count(applied => applied.Count == 0));
        Assert.Equal(DatabaseMigrator.ScriptNames.Count, await ScalarAsync<long>(cs, "SELECT count(*) FROM schemaversions"));
    }

    [Fact]
    public async Task Should_move_a_tag_table_journals_tags_into_its_rows()
    {
        var cs = databases.NewDatabaseConnectionString();
        var name = new NpgsqlConnectionStringBuilder(cs).Database!;
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Database = "postgres" }.ConnectionString))
        {
            await admin.OpenAsync();
            await new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin).ExecuteNonQueryAsync();
        }
        // A journal as the plugin laid it out in tag-table mode, with one tagged and one untagged event.
        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand("""
                CREATE TABLE journal (ordering bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created bigint NOT NULL, deleted boolean NOT NULL,
                    persistence_id text NOT NULL, sequence_number bigint NOT NULL, message bytea NOT NULL, manifest text, identifier integer, writer_uuid text);
                CREATE TABLE tags (ordering_id bigint NOT NULL, tag text NOT NULL, sequence_nr bigint NOT NULL, persistence_id text NOT NULL, PRIMARY KEY (ordering_id, tag));
                INSERT INTO journal (created, deleted, persistence_id, sequence_number, message) VALUES (1, false, 'meter-MTR-00000001', 1, '\x01'), (2, false, 'meter-MTR-00000001', 2, '\x02');
                INSERT INTO tags VALUES (2, 'window-emitted', 2, 'meter-MTR-00000001');
                """, connection).ExecuteNonQueryAsync();
        }

        DatabaseMigrator.Migrate(cs);

        Assert.Equal(["1:", "2:;window-emitted;"],
            await ListAsync(cs, "SELECT sequence_number || ':' || coalesce(tags, '') FROM journal ORDER BY ordering"));
    }

    private static async Task<T> ScalarAsync<T>(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<List<string>> ListAsync(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(reader.GetString(0));
        return rows;
    }
}
