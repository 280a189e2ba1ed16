using Npgsql;

namespace SmartGrid.Storage.Tests;

/// <summary>
/// A fresh database of its own per test class (smartgrid_test_&lt;guid&gt;), migrated, on the server
/// named by env ConnectionStrings__Postgres; dropped at the end so parallel test runs never meet.
/// </summary>
public class PostgresDatabase : IAsyncLifetime
{
    private const string DefaultConnectionString = "Host=127.0.0.1;Port=5432;Username=postgres;Database=smartgrid";
    private readonly List<string> _created = [];

    public StorageServices Storage { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } cs ? cs : DefaultConnectionString;

    /// <summary>A connection string to a database that does not exist yet; it is dropped at the end.</summary>
    public string NewDatabaseConnectionString()
    {
        var name = "smartgrid_test_" + Guid.NewGuid().ToString("N");
        lock (_created)
            _created.Add(name);
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public virtual Task InitializeAsync()
    {
        ConnectionString = NewDatabaseConnectionString();
        DatabaseMigrator.Migrate(ConnectionString);
        Storage = StorageServices.Create(ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (Storage is not null)
            await Storage.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync();
        foreach (var name in _created)
        {
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var cmd = Storage.DataSource.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var cmd = Storage.DataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }
}
