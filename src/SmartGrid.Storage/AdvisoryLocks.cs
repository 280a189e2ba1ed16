namespace SmartGrid.Storage;

/// <summary>
/// Keys of the PostgreSQL advisory locks this library takes, as (namespace, key) int pairs:
/// the first int keeps them apart from other users of advisory locks in the same database.
/// </summary>
internal static class AdvisoryLocks
{
    /// <summary>Held (in the maintenance database) while one process creates and migrates a database.</summary>
    public const int Migration = 0x5347_0001;

    /// <summary>Held (per table, transaction-scoped) while partitions are created or dropped.</summary>
    public const int Partitions = 0x5347_0002;

    /// <summary>Held (session-scoped) by the one process running a journal cleanup pass.</summary>
    public const int JournalCleanup = 0x5347_0003;

    /// <summary>Held (session-scoped, the second key the period's hash) by the one billing run of a period.</summary>
    public const int Billing = 0x5347_0011;

    /// <summary>Held (transaction-scoped) by every change of the topology, so imports and edits apply one after another.</summary>
    public const int Topology = 0x5347_0091;
}
