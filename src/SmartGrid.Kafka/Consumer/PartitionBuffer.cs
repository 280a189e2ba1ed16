using Confluent.Kafka;

namespace SmartGrid.Kafka;

internal enum TakeResult
{
    Taken,
    Empty,
    Completed,
    Failed,
}

/// <summary>A record that could not be deserialized, waiting for its dead letter to be acknowledged.</summary>
internal sealed class DeadLetterEntry(long offset, Task delivery)
{
    public long Offset { get; } = offset;
    public Task Delivery { get; } = delivery;
}

/// <summary>
/// The bounded hand-over between the consumer thread and one partition sub-source, for one assignment
/// of that partition. Entries are <see cref="CommittableMessage{TKey,TValue}"/> or <see cref="DeadLetterEntry"/>.
/// Fields marked "consumer thread" are touched only by the consumer loop; the commit fields are guarded
/// by the hub's commit lock; the queue by this object's lock.
/// </summary>
internal sealed class PartitionBuffer
{
    private readonly object _gate = new();
    // Whole poll-batch chunks are handed over, so the hand-over costs a lock per chunk, not per message.
    private readonly Queue<List<object>> _chunks = new();
    private readonly int _wakeHubBelow;
    private readonly Action _wakeHub;
    private Action? _wakeSubSource;
    private bool _subSourceWaiting;
    private bool _completed;
    private Exception? _failure;
    private int _count;
    private int _attached;
    private bool _completedFlag;

    public PartitionBuffer(TopicPartition topicPartition, long epoch, int wakeHubBelow, Action wakeHub)
    {
        TopicPartition = topicPartition;
        Epoch = epoch;
        _wakeHubBelow = wakeHubBelow;
        _wakeHub = wakeHub;
    }

    public TopicPartition TopicPartition { get; }
    public long Epoch { get; }

    /// <summary>Entries fetched in the current poll batch, not yet handed over (consumer thread).</summary>
    public List<object> Pending { get; private set; } = new();

    /// <summary>Consumer thread.</summary>
    public bool Paused { get; set; }

    /// <summary>Offset of the first record fetched for this assignment, -1 before it (consumer thread): where a replay starts when nothing was committed.</summary>
    public long FirstFetched { get; set; } = -1;

    /// <summary>The partition's high watermark when <see cref="FirstFetched"/> was fetched, null if unknown (consumer thread).</summary>
    public long? BacklogEnd { get; set; }

    /// <summary>Set when the sub-source was cancelled: nobody reads this partition any more.</summary>
    public volatile bool Abandoned;

    /// <summary>Offset of the last message pushed downstream (sub-source thread), long.MinValue before the first.</summary>
    public long LastEmitted = long.MinValue;

    /// <summary>Messages pushed downstream (written by the sub-source only).</summary>
    public long Emitted;

    // Commit state, guarded by the hub's commit lock.
    public long RequestedNext = -1;
    public long CommittedNext = -1;
    public readonly Queue<(long Offset, long LastEmittedBefore)> DeadLetters = new();

    public int Count => Volatile.Read(ref _count);

    /// <summary>Set (before the queue is dropped) when no further entry may be emitted; read before every push.</summary>
    public bool IsCompleted => Volatile.Read(ref _completedFlag);

    /// <summary>Entries the sub-source has taken but not emitted yet (sub-source writes).</summary>
    public int InHand;

    public Exception? Failure
    {
        get { lock (_gate) return _failure; }
    }

    public bool Attach(Action wake)
    {
        if (Interlocked.Exchange(ref _attached, 1) == 1)
            return false;
        lock (_gate)
            _wakeSubSource = wake;
        return true;
    }

    /// <summary>Consumer thread: hands over <see cref="Pending"/>; returns how many entries were accepted.</summary>
    public int Flush()
    {
        var chunk = Pending;
        if (chunk.Count == 0)
            return 0;
        Pending = new List<object>(Math.Min(chunk.Capacity, 1024));
        Action? wake = null;
        lock (_gate)
        {
            if (_completed)
                return 0;
            _chunks.Enqueue(chunk);
            _count += chunk.Count;
            if (_subSourceWaiting)
            {
                _subSourceWaiting = false;
                wake = _wakeSubSource;
            }
        }
        wake?.Invoke();
        return chunk.Count;
    }

    /// <summary>Consumer thread: forgets the entries of the current poll batch (the assignment is gone).</summary>
    public void DropPending() => Pending.Clear();

    /// <summary>Sub-source thread: takes the oldest chunk of entries.</summary>
    public TakeResult TakeChunk(out List<object>? chunk)
    {
        bool wakeHub;
        lock (_gate)
        {
            chunk = null;
            if (_completed)
                return _failure is null ? TakeResult.Completed : TakeResult.Failed;
            if (!_chunks.TryDequeue(out chunk))
            {
                _subSourceWaiting = true;
                return TakeResult.Empty;
            }
            var before = _count;
            _count -= chunk.Count;
            wakeHub = before >= _wakeHubBelow && _count < _wakeHubBelow;
        }
        // Crossing below the low-water mark: the consumer loop may be idle or have paused this partition.
        if (wakeHub)
            _wakeHub();
        return TakeResult.Taken;
    }

    /// <summary>
    /// No further entries: revoked, stopped, abandoned or failed. Buffered entries are dropped, so nothing
    /// of this assignment is emitted after this returns. Returns the number of entries dropped.
    /// </summary>
    public int Complete(Exception? failure = null)
    {
        Action? wake;
        int dropped;
        lock (_gate)
        {
            if (_completed)
                return 0;
            _completed = true;
            Volatile.Write(ref _completedFlag, true);
            _failure = failure;
            dropped = _count;
            _chunks.Clear();
            _count = 0;
            wake = _subSourceWaiting ? _wakeSubSource : null;
            _subSourceWaiting = false;
        }
        wake?.Invoke();
        return dropped;
    }
}
