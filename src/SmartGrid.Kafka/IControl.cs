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
    long PollBatches);
