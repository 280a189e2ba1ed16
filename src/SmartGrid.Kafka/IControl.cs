namespace SmartGrid.Kafka;

/// <summary>Controls a running consumer source (its materialized value).</summary>
public interface IControl
{
    /// <summary>
    /// Stops emitting: the source and every partition sub-source complete; buffered messages are dropped
    /// (uncommitted, so they are read again later). The consumer stays in the group, so commits of
    /// messages already emitted keep working until <see cref="Shutdown"/>.
    /// </summary>
    Task Stop();

    /// <summary>Stops emitting, lets commits already requested finish, then closes the consumer (leaving the group).</summary>
    Task Shutdown();

    /// <summary>
    /// The graceful way to end a committing stream: stop fetching and emitting, wait until the stream has
    /// processed the messages already emitted and committed them (<paramref name="streamCompletion"/>), then close the consumer.
    /// </summary>
    Task<T> DrainAndShutdown<T>(Task<T> streamCompletion);

    /// <summary>Completes when the consumer has been closed.</summary>
    Task IsShutdown { get; }

    /// <summary>A snapshot of the consumer's counters.</summary>
    ConsumerMetrics Metrics { get; }
}

/// <summary>Counters of one consumer source.</summary>
/// <param name="BufferedMessages">Fetched from librdkafka but not yet emitted downstream.</param>
/// <param name="PeakBufferedMessages">Highest <paramref name="BufferedMessages"/> seen.</param>
/// <param name="PollBatches">Batches handed from the consumer thread to the partition buffers (fetched / batches = batch size).</param>
/// <param name="StarvedPolls">Polls that waited at least 10 ms for librdkafka's first message while some partition wanted data:
/// the fetch pipeline ran dry (a fetch back-off, the broker's wait, or simply the end of the log).</param>
/// <param name="StarvedTime">Time those polls (and shorter ones) spent waiting for librdkafka while some partition wanted data.</param>
/// <param name="IdleTime">Time the consumer thread stood still because every partition buffer was at least half full (downstream back-pressure).</param>
/// <param name="CommitTime">Time the commit thread spent in commit round trips to the broker.</param>
public sealed record ConsumerMetrics(
    long BufferedMessages,
    long PeakBufferedMessages,
    long MessagesFetched,
    long MessagesEmitted,
    long DeadLettered,
    long Pauses,
    long Commits,
    int AssignedPartitions,
    int PausedPartitions,
    long PollBatches,
    long StarvedPolls,
    TimeSpan StarvedTime,
    TimeSpan IdleTime,
    TimeSpan CommitTime);
