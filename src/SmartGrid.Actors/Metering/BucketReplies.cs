using Akka.Actor;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// The answers of the buckets one telemetry group (or one checkpoint) asks, taken by one temporary actor ref for all of
/// them instead of an ask per bucket. An ask registers a temporary actor of its own (a path, a name and an entry in the
/// provider's temporary container), a task, a cancellation registration and the continuations that undo them. Here the
/// buckets answer to one ref, registered like an ask's so a bucket on another node reaches it, and each answer finds its
/// place by the bucket id it carries: a group asks each bucket once, and a checkpoint too.
/// <para>
/// Everything an ask per bucket gave holds per bucket: each takes one of the node's places (<paramref name="places"/>)
/// from its send until its answer; each times out on the deadline it was sent under, naming the bucket and a meter; the run's
/// abandon or a journal failure (both cancel every deadline) end the wait at once. The first failure fails the whole
/// set, gives back the places still held, and unregisters the ref: a late answer then goes to dead letters, as one to an ask that timed out did.
/// </para>
/// </summary>
internal sealed class BucketReplies : MinimalActorRef
{
    private const int Unsent = 0, Waiting = 1, Answered = 2, GivenUp = 3;

    private readonly IActorRefProvider _provider;
    private readonly ActorPath _path;
    private readonly IReadOnlyList<IBucketMessage> _messages;
    private readonly Dictionary<string, int> _slots;
    private readonly SemaphoreSlim _places;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _abandon;
    private readonly int[] _states;
    private readonly object?[] _answers;
    private readonly AskDeadline?[] _deadlines;
    private readonly TaskCompletionSource<object?[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>One registration per deadline this set sent under (a deadline serves a tenth of the timeout's sends).</summary>
    private readonly List<CancellationTokenRegistration> _watches = [];
    private AskDeadline? _watched;
    private int _unanswered;

    /// <param name="messages">One per bucket, sent in this order by <see cref="SendAsync"/>.</param>
    public BucketReplies(IActorRefProvider provider, IReadOnlyList<IBucketMessage> messages, SemaphoreSlim places, TimeSpan timeout, CancellationToken abandon)
    {
        (_provider, _messages, _places, _timeout, _abandon) = (provider, messages, places, timeout, abandon);
        _slots = new Dictionary<string, int>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
            if (!_slots.TryAdd(messages[i].BucketId, i))
                throw new ArgumentException($"bucket {messages[i].BucketId} asked twice in one set", nameof(messages));
        _states = new int[messages.Count];
        _answers = new object?[messages.Count];
        _deadlines = new AskDeadline?[messages.Count];
        _unanswered = messages.Count;
        _path = provider.TempPath();
        provider.RegisterTempActor(this, _path);
        if (messages.Count == 0) Complete();
    }

    public override ActorPath Path => _path;
    public override IActorRefProvider Provider => _provider;

    /// <summary>The answers in the order of the messages; fails with the first timeout, abandon or journal failure.</summary>
    public Task<object?[]> Answers => _done.Task;

    /// <summary>Sends every message as a place frees up; completes once all are sent (or the set failed), with the answers to come.</summary>
    public async Task SendAsync(IActorRef buckets, AskDeadlines deadlines)
    {
        try
        {
            for (var i = 0; i < _messages.Count && !_done.Task.IsCompleted; i++)
            {
                // Waiting for a place is back-pressure, not a timeout: only the run's end or a journal failure stops it.
                await _places.WaitAsync(deadlines.Stopped);
                var deadline = deadlines.Next();
                _deadlines[i] = deadline;
                if (Interlocked.CompareExchange(ref _states[i], Waiting, Unsent) != Unsent)
                {
                    // The set failed meanwhile: this bucket is not asked, its place goes back.
                    _places.Release();
                    break;
                }
                Watch(deadline);
                buckets.Tell(_messages[i], this);
            }
        }
        catch (OperationCanceledException e)
        {
            Fail(e);
            throw;
        }
    }

    protected override void TellInternal(object message, IActorRef sender)
    {
        var bucketId = message switch
        {
            ReadingsRecorded recorded => recorded.BucketId,
            ReadingsCheckpointed checkpointed => checkpointed.BucketId,
            CheckpointRefused refused => refused.BucketId,
            _ => null,
        };
        if (bucketId is null || !_slots.TryGetValue(bucketId, out var slot))
        {
            Fail(new InvalidOperationException($"unexpected answer from {sender}: {message.GetType().Name}"));
            return;
        }
        // Only an answer to a bucket still waited for counts: a duplicate, or one after the set failed, is dropped.
        if (Interlocked.CompareExchange(ref _states[slot], Answered, Waiting) != Waiting) return;
        _answers[slot] = message;
        _places.Release();
        if (Interlocked.Decrement(ref _unanswered) == 0) Complete();
    }

    /// <summary>Has the set fail when <paramref name="deadline"/> passes with a bucket sent under it still unanswered.</summary>
    private void Watch(AskDeadline deadline)
    {
        // Only the sending loop calls this, one send after the other.
        if (ReferenceEquals(deadline, _watched)) return;
        _watched = deadline;
        var registration = deadline.Token.UnsafeRegister(static (state, _) =>
        {
            var (replies, passed) = ((BucketReplies, AskDeadline))state!;
            replies.Expired(passed);
        }, (this, deadline));
        lock (_watches) _watches.Add(registration);
    }

    private void Expired(AskDeadline deadline)
    {
        for (var i = 0; i < _states.Length; i++)
        {
            if (Volatile.Read(ref _states[i]) != Waiting || !ReferenceEquals(_deadlines[i], deadline)) continue;
            var message = _messages[i];
            var to = Addressee(message);
            Fail(deadline.TimedOut(_abandon)
                ? new AskTimeoutException($"Timeout after {_timeout.TotalSeconds:0.##} seconds: {message.GetType().Name} to {to}")
                : new TaskCanceledException($"{message.GetType().Name} to {to}: the run was abandoned or a journal failed"));
            return;
        }
    }

    /// <summary>The bucket, and for a group the meter it starts with, so a timeout can be traced to a meter's log lines.</summary>
    private static string Addressee(IBucketMessage message) => message is RecordReadings { Meters: [var first, ..] } record
        ? $"bucket {message.BucketId} (meter {first.MeterId} and {record.Meters.Count - 1} more)"
        : $"bucket {message.BucketId}";

    private void Fail(Exception cause)
    {
        if (!_done.TrySetException(cause)) return;
        for (var i = 0; i < _states.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _states[i], GivenUp, Waiting) == Waiting) _places.Release();
            else Interlocked.CompareExchange(ref _states[i], GivenUp, Unsent);
        }
        Release();
    }

    private void Complete()
    {
        _done.TrySetResult(_answers);
        Release();
    }

    private void Release()
    {
        _provider.UnregisterTempActor(_path);
        lock (_watches)
        {
            // Unregister, not Dispose: this may run inside one of the callbacks, and Dispose would wait for it.
            foreach (var watch in _watches) watch.Unregister();
            _watches.Clear();
        }
    }
}
