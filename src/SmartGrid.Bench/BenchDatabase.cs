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
