using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Npgsql;
using SmartGrid.Actors.Hosting;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Persistence;

/// <summary>
/// The recovery reads <see cref="BatchedSqlJournal"/> and <see cref="BatchedSqlSnapshotStore"/>
/// batch, one set per database and actor system (a plugin that restarts finds them again), and how
/// many requests they were asked against how many statements answered them: the figure that says
/// batching works.
/// </summary>
public sealed class RecoveryBatching : IExtension, IDisposable
{
    /// <summary>Most entities one statement reads for.</summary>
    public const int MaxBatch = 1_000;

    /// <summary>Statements of one kind running at once; further requests gather behind them.</summary>
    public const int Parallelism = 2;

    /// <summary>
    /// How long a statement waits for more requests after the first: a fleet's recoveries reach the plugin
    /// one message at a time, and a few milliseconds gather hundreds of them; a lone recovery hardly notices.
    /// </summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(3);

    public enum Read { Snapshot, HighestSequenceNr, Events }

    private readonly ConcurrentDictionary<string, Lazy<Reads>> _reads = new();
    private readonly long[] _asked = new long[3];
    private readonly long[] _requests = new long[3];
    private readonly long[] _statements = new long[3];

    public static RecoveryBatching For(ActorSystem system) => system.WithExtension<RecoveryBatching, Provider>();

    /// <summary>
    /// The batched reads of the database a journal or snapshot store plugin's <c>connection-string</c> names. A statement
    /// may run as long as its callers wait (the plugin's circuit-breaker call timeout): a shorter one failed whole
    /// batches behind a slow database that the callers would still have waited for.
    /// </summary>
    public Reads ReadsFor(Config pluginConfig)
    {
        var connectionString = pluginConfig.GetString("connection-string");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ConfigurationException("a batched journal or snapshot store needs its plugin's connection-string");
        var callTimeout = pluginConfig.GetTimeSpan("circuit-breaker.call-timeout", TimeSpan.FromSeconds(10));
        var withTimeout = new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = (int)Math.Ceiling(callTimeout.TotalSeconds) }.ConnectionString;
        return _reads.GetOrAdd(withTimeout, cs => new Lazy<Reads>(() => new Reads(NpgsqlDataSource.Create(cs), this))).Value;
    }

    /// <summary>Reads of a kind asked for so far, how many of them went into a statement, and how many statements that took.</summary>
    public (long Asked, long Requests, long Statements) Count(Read read) =>
        (Interlocked.Read(ref _asked[(int)read]), Interlocked.Read(ref _requests[(int)read]), Interlocked.Read(ref _statements[(int)read]));

    private Task<T> Ask<T>(Read read, Task<T> answer)
    {
        Interlocked.Increment(ref _asked[(int)read]);
        return answer;
    }

    private void Batched(Read read, int requests)
    {
        Interlocked.Add(ref _requests[(int)read], requests);
        Interlocked.Increment(ref _statements[(int)read]);
        PipelineMetrics.RecoveryBatchSize.Record(requests, new KeyValuePair<string, object?>("read", read.ToString()));
    }

    /// <summary>A stored payload back into its object, as Akka.Persistence.Sql reads it.</summary>
    internal static object Deserialize(Akka.Serialization.Serialization serialization, byte[] payload, int? serializerId, string? manifest)
    {
        if (serializerId is { } id) return serialization.Deserialize(payload, id, manifest);
        // Rows written before serializer ids were stored name their type instead.
        var type = Type.GetType(manifest ?? throw new InvalidOperationException("a stored payload without serializer id or manifest"), throwOnError: true)!;
        return serialization.FindSerializerForType(type).FromBinary(payload, type);
    }

    public void Dispose()
    {
        foreach (var reads in _reads.Values.Where(r => r.IsValueCreated)) reads.Value.Dispose();
    }

    /// <summary>One database's recovery reads, each answered for many entities per statement.</summary>
    public sealed class Reads : IDisposable
    {
        private readonly NpgsqlDataSource _dataSource;
        private readonly QueryCoalescer<string, StoredSnapshot?> _snapshots;
        private readonly QueryCoalescer<(string PersistenceId, long From), long> _highest;
        private readonly QueryCoalescer<EventRange, IReadOnlyList<StoredEvent>> _events;
        private readonly RecoveryBatching _counts;

        internal Reads(NpgsqlDataSource dataSource, RecoveryBatching counts)
        {
            _dataSource = dataSource;
            _counts = counts;
            var reader = new JournalRecoveryReader(dataSource);
            _snapshots = new(reader.LatestSnapshotsAsync, MaxBatch, Parallelism, Linger, n => counts.Batched(Read.Snapshot, n));
            _highest = new(reader.HighestSequenceNrsAsync, MaxBatch, Parallelism, Linger, n => counts.Batched(Read.HighestSequenceNr, n));
            _events = new(reader.EventsAsync, MaxBatch, Parallelism, Linger, n => counts.Batched(Read.Events, n));
        }

        /// <summary>The database's connections (command timeout as the plugin's call timeout), for the journal's own writes.</summary>
        internal NpgsqlDataSource DataSource => _dataSource;

        public Task<StoredSnapshot?> LatestSnapshotAsync(string persistenceId) => _counts.Ask(Read.Snapshot, _snapshots.AskAsync(persistenceId));

        public Task<long> HighestSequenceNrAsync(string persistenceId, long from) => _counts.Ask(Read.HighestSequenceNr, _highest.AskAsync((persistenceId, from)));

        public Task<IReadOnlyList<StoredEvent>> EventsAsync(EventRange range) => _counts.Ask(Read.Events, _events.AskAsync(range));

        public void Dispose()
        {
            _snapshots.Dispose();
            _highest.Dispose();
            _events.Dispose();
            _dataSource.Dispose();
        }
    }

    private sealed class Provider : ExtensionIdProvider<RecoveryBatching>
    {
        public override RecoveryBatching CreateExtension(ExtendedActorSystem system)
        {
            var batching = new RecoveryBatching();
            system.RegisterOnTermination(batching.Dispose);
            return batching;
        }
    }
}
