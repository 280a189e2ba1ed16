namespace SmartGrid.Actors.Hosting;

/// <summary>
/// What the processor's actors and streams take from configuration (the node binds it from
/// SmartGrid:Pipeline and validates it with the keys' full names).
/// </summary>
public sealed class PipelineSettings
{
    /// <summary>How long a closed window still accepts late readings, by event time.</summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>A meter silent this long (wall clock) closes its open windows.</summary>
    public TimeSpan IdleClose { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// Readings grouped per partition before each meter gets its share in one message. Two
    /// seconds add at most that much to a reading's way into its window, which closes a minute
    /// later anyway.
    /// </summary>
    public int MaxBatch { get; set; } = 20_000;
    public TimeSpan MaxBatchInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>
    /// How often each partition's meters persist what they applied, and the offsets behind it
    /// are committed. The journal, not the actors, is the wall: one write per meter per
    /// checkpoint, however many readings it got. A crash replays at most this much.
    /// </summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);
    public int SnapshotEvery { get; set; } = 100;
    /// <summary>
    /// A meter without messages this long (wall clock) leaves memory once nothing it holds is
    /// unpublished, after a snapshot of its last state; its next reading brings it back from that row.
    /// </summary>
    public TimeSpan PassivateAfter { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>
    /// A region's snapshot holds every meter's window for the whole retention (tens of MB at
    /// thousands of meters), while its events are one projection batch each: snapshotting as
    /// often as a meter made serializing snapshots a good part of the node's work.
    /// </summary>
    public int RegionSnapshotEvery { get; set; } = 1_000;
    /// <summary>
    /// How often a processor node deletes journal events behind both the snapshots and every
    /// projection's stored offset, and snapshots a newer one supersedes (SmartGrid.Storage JournalCleanup).
    /// </summary>
    public TimeSpan JournalCleanupInterval { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>
    /// The raw archive consumer's Kafka session (<c>session.timeout.ms</c>): how long an archiver killed without leaving
    /// keeps its partitions, so also how long a node restarted after <c>kill -9</c> waits before it archives again. The
    /// telemetry consumer joins no group (the cluster assigns its partitions, <see cref="TelemetryPartitions"/>), so no
    /// session delays processing. 6 s is the lowest a stock broker accepts; the embedded broker takes less. Shorter costs
    /// a needless rebalance whenever a loaded host misses heartbeats (every 1 s) for that long; nothing is lost then.
    /// </summary>
    public TimeSpan ConsumerSessionTimeout { get; set; } = TimeSpan.FromSeconds(6);
}
