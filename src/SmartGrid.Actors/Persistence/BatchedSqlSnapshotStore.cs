using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Snapshot;

namespace SmartGrid.Actors.Persistence;

/// <summary>
/// Akka.Persistence.Sql's snapshot store, with the recovery's read (the newest snapshot) batched
/// across entities like <see cref="BatchedSqlJournal"/>'s: a passivated meter comes back with this
/// one row, so a fleet of them is read a thousand rows per statement. Loads with another criterion,
/// saves and deletes are the plugin's, behind a <see cref="WriteGate"/>: a fleet that started together
/// snapshots together (every 100 events), and each save and delete takes a connection of its own.
/// </summary>
public sealed class BatchedSqlSnapshotStore : SqlSnapshotStore
{
    private readonly RecoveryBatching.Reads _reads;
    private readonly Akka.Serialization.Serialization _serialization;

    /// <summary>
    /// Saves and deletes in flight at most: a third of Npgsql's default pool of 100, which the journal's writers share;
    /// 50,000 at once drained it, and journal writes failed waiting for a connection.
    /// </summary>
    public const int MaxWritesInFlight = 32;

    private readonly WriteGate _gate = new(MaxWritesInFlight, "snapshot", m => m is SaveSnapshot or DeleteSnapshot or DeleteSnapshots);

    public BatchedSqlSnapshotStore(Config snapshotConfig) : base(snapshotConfig)
    {
        _reads = RecoveryBatching.For(Context.System).ReadsFor(snapshotConfig);
        _serialization = Context.System.Serialization;
    }

    protected override bool AroundReceive(Receive receive, object message) =>
        _gate.Admit(ref message, Sender, Self) == WriteGate.Admission.Taken || base.AroundReceive(receive, message);

    protected override void PostStop()
    {
        foreach (var _ in _gate.Abandon()) { }
        base.PostStop();
    }

    protected override Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken) =>
        Started(base.SaveAsync(metadata, snapshot, cancellationToken));

    protected override Task DeleteAsync(SnapshotMetadata metadata, CancellationToken cancellationToken) =>
        Started(base.DeleteAsync(metadata, cancellationToken));

    protected override Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken) =>
        Started(base.DeleteAsync(persistenceId, criteria, cancellationToken));

    private Task Started(Task write)
    {
        _gate.Started(write, Self);
        return write;
    }

    protected override async Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        // A recovery asks for the latest (Akka's default criteria); anything narrower is rare and stays the plugin's.
        if (criteria.MaxSequenceNr != long.MaxValue || criteria.MaxTimeStamp != DateTime.MaxValue)
            return await base.LoadAsync(persistenceId, criteria, cancellationToken);
        if (await _reads.LatestSnapshotAsync(persistenceId).WaitAsync(cancellationToken) is not { } row) return null;
        return new SelectedSnapshot(
            new SnapshotMetadata(row.PersistenceId, row.SequenceNr, new DateTime(row.Created)),
            RecoveryBatching.Deserialize(_serialization, row.Payload, row.SerializerId, row.Manifest));
    }
}
