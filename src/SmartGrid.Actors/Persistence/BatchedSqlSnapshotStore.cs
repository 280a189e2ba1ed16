using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Sql.Snapshot;

namespace SmartGrid.Actors.Persistence;

/// <summary>
/// Akka.Persistence.Sql's snapshot store, with the recovery's read (the newest snapshot) batched
/// across entities like <see cref="BatchedSqlJournal"/>'s: a passivated meter comes back with this
/// one row, so a fleet of them is read a thousand rows per statement. Loads with another criterion,
/// saves and deletes are the plugin's.
/// </summary>
public sealed class BatchedSqlSnapshotStore : SqlSnapshotStore
{
    private readonly RecoveryBatching.Reads _reads;
    private readonly Akka.Serialization.Serialization _serialization;

    public BatchedSqlSnapshotStore(Config snapshotConfig) : base(snapshotConfig)
    {
        _reads = RecoveryBatching.For(Context.System).ReadsFor(snapshotConfig);
        _serialization = Context.System.Serialization;
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
