using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SmartGrid.Bench;

/// <summary>A throwaway database per benchmark run on the server of ConnectionStrings__Postgres, dropped at the end.</summary>
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
    /// Journal and snapshot tables (rows, indexes, TOAST, and the dead space autovacuum hands back
    /// to new rows) per meter, in the words scripts read: <c>postgres bytes per meter: N</c>.
    /// </summary>
    public async Task<string> StorageLineAsync(int meters)
    {
        var bytes = await ScalarAsync("SELECT coalesce(pg_total_relation_size(to_regclass('journal')), 0) + coalesce(pg_total_relation_size(to_regclass('snapshot')), 0)");
        var rows = await ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id LIKE 'meter-%'");
        return $"journal rows per meter: {rows / (double)meters:F1}\npostgres bytes per meter: {bytes / meters}";
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
