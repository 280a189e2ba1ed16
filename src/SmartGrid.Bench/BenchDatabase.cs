using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SmartGrid.Bench;

/// <summary>A throwaway database per benchmark run on the server of ConnectionStrings__Postgres, dropped at the end unless kept.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;

    private BenchDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 100 }.ConnectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    /// <summary>Leave the database in place at the end, so a run's rows can be queried afterwards.</summary>
    public bool Keep { get; set; }

    public static async Task<BenchDatabase> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } cs
            ? cs
            : "Host=127.0.0.1;Port=5432;Username=postgres;Database=smartgrid";
        var database = new BenchDatabase(server, $"smartgrid_bench_{Guid.NewGuid():N}");
        await ExecuteAsync(server, $"CREATE DATABASE \"{database.Name}\"");
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (Keep)
        {
            Console.WriteLine($"database kept: {ConnectionString}");
            return;
        }
        await ExecuteAsync(_server, $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
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

    /// <summary>A loopback port free at the time of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
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
