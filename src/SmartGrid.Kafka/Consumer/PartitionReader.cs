namespace SmartGrid.Kafka;

internal enum ReadOutcome
{
    Message,
    Waiting,
    Completed,
    Failed,
}

/// <summary>
/// The reading side of one <see cref="PartitionBuffer"/>, used by the stage that emits its messages: takes entries
/// in small batches, never returns a message once the assignment is completed (revoked or stopped), and holds back
/// everything behind a dead letter until that dead letter is acknowledged. Used from the owning stage only.
/// </summary>
internal sealed class PartitionReader<TKey, TValue>
{
    private readonly ConsumerHub<TKey, TValue> _hub;
    private readonly Action _wake;
    private List<object>? _chunk;
    private int _index;
    private DeadLetterEntry? _awaiting;

    /// <summary><paramref name="wake"/> is called from any thread when data, completion or a dead-letter acknowledgement arrives.</summary>
    public PartitionReader(PartitionBuffer buffer, ConsumerHub<TKey, TValue> hub, Action wake)
    {
        Buffer = buffer;
        _hub = hub;
        _wake = wake;
    }

    public PartitionBuffer Buffer { get; }

    public Exception? Error { get; private set; }

    /// <summary>More entries are already taken from the buffer (a hint to keep reading this partition).</summary>
    public bool HasInHand => _chunk is not null && _index < _chunk.Count;

    public bool Attach() => Buffer.Attach(_wake);

    public ReadOutcome TryRead(out CommittableMessage<TKey, TValue>? message)
    {
        message = null;
        while (true)
        {
            // Revoked or stopped: nothing more of this assignment may be emitted.
            if (Buffer.IsCompleted)
            {
                _chunk = null;
                Volatile.Write(ref Buffer.InHand, 0);
                Error = Buffer.Failure;
                return Error is null ? ReadOutcome.Completed : ReadOutcome.Failed;
            }

            if (_awaiting is { } deadLetter)
            {
                if (!deadLetter.Delivery.IsCompleted)
                    return ReadOutcome.Waiting;
                _awaiting = null;
                if (deadLetter.Delivery.Exception is { } error)
                {
                    Error = error.InnerException ?? error;
                    return ReadOutcome.Failed;
                }
                _hub.DeadLetterDone(Buffer, deadLetter.Offset);
            }

            if (!HasInHand)
            {
                var taken = Buffer.TakeChunk(out _chunk);
                _index = 0;
                if (taken == TakeResult.Empty)
                    return ReadOutcome.Waiting;
                if (taken != TakeResult.Taken)
                    continue; // completed meanwhile: handled at the top
            }

            var entry = _chunk![_index];
            _chunk[_index++] = null!; // let the GC have it as soon as it is emitted
            Volatile.Write(ref Buffer.InHand, _chunk.Count - _index);
            if (entry is CommittableMessage<TKey, TValue> committable)
            {
                Volatile.Write(ref Buffer.LastEmitted, committable.CommittableOffset.Offset);
                Volatile.Write(ref Buffer.Emitted, Buffer.Emitted + 1);
                message = committable;
                return ReadOutcome.Message;
            }

            var pending = (DeadLetterEntry)entry;
            _awaiting = pending;
            if (!pending.Delivery.IsCompleted)
            {
                var wake = _wake;
                pending.Delivery.ContinueWith(_ => wake(), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return ReadOutcome.Waiting;
            }
        }
    }
}
