using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// A manager's writes of one decision, in one transaction on a connection of their own: nothing is stored unless
/// it is committed, and disposing ends both. Statements take positional values (<see cref="Db"/>).
/// </summary>
public abstract class StoreTransaction : IAsyncDisposable
{
    protected StoreTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    protected NpgsqlConnection Connection { get; }
    protected NpgsqlTransaction Transaction { get; }

    /// <summary>Opens a connection and begins the transaction that <paramref name="wrap"/> makes a store's.</summary>
    internal static async Task<T> BeginAsync<T>(NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, T> wrap)
    {
        var connection = await db.OpenConnectionAsync();
        return wrap(connection, await connection.BeginTransactionAsync());
    }

    public Task CommitAsync() => Transaction.CommitAsync();

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected Task<int> ExecuteAsync(string sql, params object?[] values) => Db.ExecuteAsync(Connection, Transaction, sql, values);

    protected NpgsqlCommand Command(string sql, params object?[] values) => Db.Command(Connection, Transaction, sql, values);
}
