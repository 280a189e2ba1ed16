using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using Npgsql;
using SmartGrid.Actors.Hosting;
using SmartGrid.Testing;

namespace SmartGrid.Actors.Tests;

/// <summary>One throwaway database per spec class; each spec gets a fresh actor system on it.</summary>
public sealed class ActorDatabase : IAsyncLifetime
{
    private TestDatabase? _database;

    public string ConnectionString => _database?.ConnectionString ?? throw new InvalidOperationException("database not created yet");

    public async ValueTask InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("actor_specs");
        // As a node does before its actor system starts: the migrations make the snapshot table, among others.
        SmartGrid.Storage.DatabaseMigrator.Migrate(_database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }

    /// <summary>Rows the journal holds for one entity, read straight from PostgreSQL.</summary>
    public Task<long> JournalRowsAsync(string persistenceId) =>
        ScalarAsync("SELECT count(*) FROM journal WHERE persistence_id = $1 AND NOT deleted", persistenceId);

    /// <summary>The sequence number the entity's newest snapshot covers; 0 without one.</summary>
    public Task<long> SnapshotSequenceNrAsync(string persistenceId) =>
        ScalarAsync("SELECT coalesce(max(sequence_number), 0) FROM snapshot WHERE persistence_id = $1", persistenceId);

    public async Task ExecuteAsync(string sql, string persistenceId)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = persistenceId } } };
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Holds an exclusive lock on a table until disposed: every read of it waits, as behind a database
    /// that has fallen behind its callers.
    /// </summary>
    public async Task<IAsyncDisposable> LockAsync(string table)
    {
        // Outside the pool the journal plugins share, which a burst of their writes can exhaust.
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        var tx = await conn.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", conn, tx))
            await cmd.ExecuteNonQueryAsync();
        return new TableLock(conn, tx);
    }

    private sealed class TableLock(NpgsqlConnection conn, NpgsqlTransaction tx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await tx.RollbackAsync();
            await tx.DisposeAsync();
            await conn.DisposeAsync();
        }
    }

    private async Task<long> ScalarAsync(string sql, string persistenceId)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        // The journal's tables appear with the first write (AutoInitialize).
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('journal') IS NOT NULL AND to_regclass('snapshot') IS NOT NULL", conn))
            if (!(bool)(await exists.ExecuteScalarAsync())!) return 0;
        await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = persistenceId } } };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}

/// <summary>
/// An actor spec on the node's own Akka composition (<see cref="AkkaConfiguration.AddSmartGridCluster"/>):
/// the same serializer, the same PostgreSQL journal and snapshot store, a one-member cluster.
/// </summary>
public abstract class ActorSpec(ActorDatabase database, ITestOutputHelper output)
    : Akka.Hosting.TestKit.TestKit(output: output), IClassFixture<ActorDatabase>
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>The node's processor role, the one meters and regions are sharded on.</summary>
    protected const string ProcessorRole = "processor";

    protected ActorDatabase Database { get; } = database;

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        builder.AddSmartGridCluster(new ClusterMembership { Port = 0 }, Database.ConnectionString, [ProcessorRole]);
    }

    /// <summary>Stops an entity and waits until it is gone, so the next one with its id recovers from the database alone.</summary>
    protected async Task StopAsync(IActorRef actor)
    {
        var probe = CreateTestProbe();
        probe.Watch(actor);
        actor.Tell(PoisonPill.Instance);
        await probe.ExpectTerminatedAsync(actor, Patience);
    }

    /// <summary>Events the journal holds under a tag, in order, as a projection reads them.</summary>
    protected async Task<List<T>> TaggedAsync<T>(string tag)
    {
        var journal = PersistenceQuery.Get(Sys).ReadJournalFor<SqlReadJournal>("akka.persistence.query.journal.sql");
        var events = await journal.CurrentEventsByTag(tag, Offset.NoOffset()).RunWith(Sink.Seq<EventEnvelope>(), Sys.Materializer());
        return events.Select(e => e.Event).OfType<T>().ToList();
    }
}
