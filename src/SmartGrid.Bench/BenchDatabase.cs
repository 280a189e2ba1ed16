using Npgsql;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>A throwaway database per benchmark run (the specs' <see cref="TestDatabase"/>), dropped at the end unless kept.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly TestDatabase _database;

    private BenchDatabase(TestDatabase database) => _database = database;

    public string Name => _database.Name;
    public string ConnectionString => _database.ConnectionString;

    public static async Task<BenchDatabase> CreateAsync() => new(await TestDatabase.CreateAsync("smartgrid_bench", maxPoolSize: 100));

    /// <summary>A fresh database with the schema, for a benchmark that uses the stores without starting a node (which migrates itself).</summary>
    public static async Task<BenchDatabase> CreateMigratedAsync()
    {
        var database = await CreateAsync();
        await Task.Run(() => DatabaseMigrator.Migrate(database.ConnectionString));
        return database;
    }

    /// <summary>Leave the database in place at the end, so a run's rows can be queried afterwards.</summary>
    public bool Keep { get; set; }

    public async ValueTask DisposeAsync()
    {
        if (!Keep)
        {
            await _database.DisposeAsync();
            return;
        }
        NpgsqlConnection.ClearAllPools();
        Console.WriteLine($"database kept: {ConnectionString}");
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        // No timeout: the storage figures scan every journal and snapshot row, minutes at a million meters.
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// The journal and snapshot tables' whole size per meter, and the journal's rows per meter as PostgreSQL
    /// estimates them: from the catalog, so a soak can ask every 30 s without scanning millions of rows.
    /// </summary>
    public async Task<(long Bytes, double JournalRows)> RelationSizePerMeterAsync(int meters)
    {
        var bytes = await ScalarAsync("SELECT coalesce(pg_total_relation_size(to_regclass('journal')), 0) + coalesce(pg_total_relation_size(to_regclass('snapshot')), 0)");
        var rows = await ScalarAsync("SELECT greatest(coalesce((SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass('journal')), 0), 0)");
        return (bytes / meters, rows / (double)meters);
    }

    /// <summary>
    /// Journal and snapshot tables per meter: meter events in the journal, live row bytes, and the
    /// tables' whole size (pg_total_relation_size: rows, indexes, TOAST and dead space).
    /// </summary>
    public async Task<StoragePerMeter> StoragePerMeterAsync(int meters)
    {
        var bytes = await ScalarAsync("SELECT coalesce(pg_total_relation_size(to_regclass('journal')), 0) + coalesce(pg_total_relation_size(to_regclass('snapshot')), 0)");
        var rows = await ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id LIKE 'meter-%'");
        var live = await ScalarAsync("SELECT (SELECT coalesce(sum(pg_column_size(j.*)), 0) FROM journal j) + (SELECT coalesce(sum(pg_column_size(s.*)), 0) FROM snapshot s)");
        return new StoragePerMeter(rows / (double)meters, live / meters, bytes / meters);
    }
}

/// <remarks>
/// Deleted rows leave dead space that autovacuum hands to later rows rather than to the file system:
/// right after a cleanup the relation size has not shrunk, the live bytes have; over a long run the
/// relation size stops growing.
/// </remarks>
internal readonly record struct StoragePerMeter(double JournalRows, long LiveBytes, long Bytes)
{
    public override string ToString() => $"journal rows per meter {JournalRows:F1}, live journal + snapshot row bytes per meter {LiveBytes}, relation bytes per meter {Bytes}";

    /// <summary>The line scripts read.</summary>
    public string Figure => $"postgres bytes per meter: {Bytes}";
}
