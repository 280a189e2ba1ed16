using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Akka.Event;
using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>Receives partition life-cycle events from the consumer thread (the outer source stage).</summary>
internal interface IPartitionListener
{
    void OnAssigned(IReadOnlyList<PartitionBuffer> partitions);
    void OnRevoked(IReadOnlyList<PartitionBuffer> partitions);
    void OnStopped();
    void OnFailed(Exception cause);
}

/// <summary>
/// Owns one Confluent consumer and the one thread that polls it. The loop takes messages from librdkafka
/// in batches of <see cref="ConsumerSettings{TKey,TValue}.PollBatchSize"/> and hands them to a bounded
/// buffer per assigned partition, read by that partition's sub-source.
/// <para>Back-pressure: when every assigned partition holds at least half its buffer (or is paused) the loop
/// stops taking messages and only polls every 100 ms for group events, so librdkafka keeps what it prefetched.
/// Only a partition whose buffer is completely full is paused (pausing drops librdkafka's prefetched data for it),
/// and it is resumed once it has drained below half.</para>
/// <para>Commits run on a second thread, merged into as few synchronous commit calls as possible, so the poll
/// loop never waits for the broker. Offsets of a revoked assignment are ignored.</para>
/// <para>Records that fail to deserialize go to the dead-letter topic; their offset is committed once the dead
/// letter is acknowledged and every message emitted before it is committed.</para>
/// </summary>
internal sealed class ConsumerHub<TKey, TValue> : IControl, IOffsetCommitter
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ShortPoll = TimeSpan.FromMilliseconds(5);
    private static readonly long StarvedPollTicks = Stopwatch.Frequency / 100; // 10 ms

    private readonly ConsumerSettings<TKey, TValue> _settings;
    private readonly string[] _topics;
    private readonly PartitionAssignment? _assignment;
    private readonly Action _wakeUp;
    private long _assignmentApplied = -1; // consumer thread
    private readonly bool _commitsExpected;
    private readonly int _lowWater;
    private readonly CapturingDeserializer<TKey> _keyDeserializer;
    private readonly CapturingDeserializer<TValue> _valueDeserializer;
    // No spinning before blocking: on two cores a spinning waiter steals the CPU the other threads need.
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly ManualResetEventSlim _commitsWaiting = new(false, spinCount: 0);
    private readonly object _commitLock = new();
    private readonly Dictionary<TopicPartition, PartitionBuffer> _assigned = new(); // writes: consumer thread under _commitLock
    private readonly List<PartitionBuffer> _dirty = new();
    private readonly List<TopicPartition> _newlyAssigned = new(); // consumer thread
    private readonly ConcurrentQueue<CommitRequest> _commitQueue = new();
    private readonly ConcurrentQueue<(TopicPartition Partition, long Epoch)> _replays = new();
    private volatile bool _commitsClosed;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _startGate = new();

    private IPartitionListener? _listener;
    private ILoggingAdapter _log = NoLogger.Instance;
    private IConsumer<TKey, TValue>? _consumer;
    private IProducer<byte[], byte[]>? _deadLetterProducer;
    private Thread? _pollThread;
    private Thread? _commitThread;
    private volatile bool _stopRequested;
    private volatile bool _shutdownRequested;
    private volatile Exception? _fatal;
    private bool _stopHandled;
    private bool _started;
    private long _epoch;
    private PartitionBuffer? _lastRouted;

    // Counters (consumer thread writes unless noted).
    private long _fetched;
    private long _peakBuffered;
    private long _pauses;
    private long _batches;
    private long _deadLettered;
    private long _commits; // commit thread
    private long _commitTicks; // commit thread
    private long _starvedPolls;
    private long _starvedTicks;
    private long _idleTicks;
    private long _retiredEmitted; // emitted by assignments that are gone

    /// <param name="assignment">The partitions to read, decided outside Kafka (the consumer then joins no group); null: subscribe to <paramref name="topics"/> in the group.</param>
    public ConsumerHub(ConsumerSettings<TKey, TValue> settings, IEnumerable<string> topics, bool commitsExpected, PartitionAssignment? assignment = null)
    {
        settings.Validate();
        _settings = settings;
        _topics = topics.ToArray();
        _assignment = assignment;
        _wakeUp = () => _wake.Set();
        if (_topics.Length == 0 && assignment is null)
            throw new ArgumentException("At least one topic is required", nameof(topics));
        _commitsExpected = commitsExpected;
        _lowWater = Math.Max(1, settings.MaxBufferPerPartition / 2);
        _keyDeserializer = new CapturingDeserializer<TKey>(settings.KeyDeserializer, keepRawCopy: true);
        _valueDeserializer = new CapturingDeserializer<TValue>(settings.ValueDeserializer, keepRawCopy: false);
    }

    public Task IsShutdown => _shutdown.Task;

    public void Start(IPartitionListener listener, ILoggingAdapter log)
    {
        lock (_startGate)
        {
            if (_started)
                throw new InvalidOperationException("A Kafka consumer source can be materialized only once");
            _started = true;
            _listener = listener;
            _log = log;
            if (_shutdownRequested)
            {
                _stopped.TrySetResult();
                _shutdown.TrySetResult();
                listener.OnStopped();
                return;
            }
            _pollThread = new Thread(PollLoop) { IsBackground = true, Name = $"kafka-consumer-{_settings.GroupId}" };
            _commitThread = new Thread(CommitLoop) { IsBackground = true, Name = $"kafka-commit-{_settings.GroupId}" };
            _commitThread.Start();
            _pollThread.Start();
        }
    }

    // ---------------------------------------------------------------- IControl

    public Task Stop()
    {
        _stopRequested = true;
        lock (_startGate)
        {
            if (!_started)
                _stopped.TrySetResult();
        }
        _wake.Set();
        return _stopped.Task;
    }

    public Task Shutdown()
    {
        _stopRequested = true;
        _shutdownRequested = true;
        lock (_startGate)
        {
            if (!_started)
            {
                _stopped.TrySetResult();
                _shutdown.TrySetResult();
            }
        }
        _wake.Set();
        return _shutdown.Task;
    }

    public async Task<T> DrainAndShutdown<T>(Task<T> streamCompletion)
    {
        await Stop().ConfigureAwait(false);
        try
        {
            return await streamCompletion.ConfigureAwait(false);
        }
        finally
        {
            await Shutdown().ConfigureAwait(false);
        }
    }

    public ConsumerMetrics Metrics
    {
        get
        {
            long buffered = 0, emitted = Interlocked.Read(ref _retiredEmitted);
            int assigned, paused = 0;
            lock (_commitLock)
            {
                assigned = _assigned.Count;
                foreach (var buffer in _assigned.Values)
                {
                    buffered += buffer.Count + Volatile.Read(ref buffer.InHand);
                    emitted += Interlocked.Read(ref buffer.Emitted);
                    if (buffer.Paused)
                        paused++;
                }
            }
            return new ConsumerMetrics(buffered, Interlocked.Read(ref _peakBuffered), Interlocked.Read(ref _fetched),
                emitted, Interlocked.Read(ref _deadLettered), Interlocked.Read(ref _pauses),
                Interlocked.Read(ref _commits), assigned, paused, Interlocked.Read(ref _batches),
                Interlocked.Read(ref _starvedPolls), Elapsed(ref _starvedTicks), Elapsed(ref _idleTicks), Elapsed(ref _commitTicks));

            static TimeSpan Elapsed(ref long ticks) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref ticks));
        }
    }

    /// <summary>The source stage stopped by itself (cancelled or failed): leave the group once emitted messages are committed.</summary>
    public void OnSourceStopped()
    {
        if (_shutdownRequested)
            return;
        if (_stopRequested)
            return; // Stop() was called: the owner decides when to shut down.
        _ = Stop();
        _ = Task.Run(async () =>
        {
            if (_commitsExpected)
            {
                var deadline = DateTime.UtcNow + _settings.StopTimeout;
                while (DateTime.UtcNow < deadline && !_shutdownRequested && !AllEmittedCommitted())
                    await Task.Delay(20).ConfigureAwait(false);
            }
            await Shutdown().ConfigureAwait(false);
        });
    }

    private bool AllEmittedCommitted()
    {
        lock (_commitLock)
        {
            foreach (var buffer in _assigned.Values)
            {
                var last = Interlocked.Read(ref buffer.LastEmitted);
                if (last != long.MinValue && buffer.CommittedNext <= last)
                    return false;
            }
            return true;
        }
    }

    // ---------------------------------------------------------------- poll loop (consumer thread)

    private void PollLoop()
    {
        Exception? failure = null;
        try
        {
            _consumer = BuildConsumer();
            if (_settings.DeadLetterTopic is not null)
                _deadLetterProducer = new ProducerBuilder<byte[], byte[]>(_settings.ToDeadLetterProducerConfig())
                    .SetLogHandler((_, m) => LogLibrdkafka(m))
                    .Build();
            if (_assignment is null)
                _consumer.Subscribe(_topics);
            else
                _assignment.Changed += _wakeUp;

            while (!_shutdownRequested)
            {
                if (_fatal is { } fatal)
                    throw fatal;
                _wake.Reset();
                ApplyStateChanges();
                if (NeedsData())
                {
                    // While a partition waits to be resumed, come back soon to resume it.
                    PollBatch(AnyPaused() ? ShortPoll : _settings.PollTimeout);
                }
                else if (!IdleWait())
                {
                    // Nothing to fetch for: poll anyway so rebalances and the poll interval are served.
                    PollBatch(TimeSpan.Zero);
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
            _log.Error(ex, "Kafka consumer of group {0} failed", _settings.GroupId);
        }
        finally
        {
            CloseDown(failure);
        }
    }

    /// <summary>Waits to be woken by a draining buffer or a stop; false after <see cref="IdlePoll"/>.</summary>
    private bool IdleWait()
    {
        var start = Stopwatch.GetTimestamp();
        var woken = _wake.Wait(IdlePoll);
        Volatile.Write(ref _idleTicks, _idleTicks + (Stopwatch.GetTimestamp() - start));
        return woken;
    }

    private IConsumer<TKey, TValue> BuildConsumer()
    {
        KafkaNative.EnsureLoaded();
        return new ConsumerBuilder<TKey, TValue>(_settings.ToConsumerConfig())
            .SetKeyDeserializer(_keyDeserializer)
            .SetValueDeserializer(_valueDeserializer)
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition), "revoked"))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition), "lost"))
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal)
                    _fatal = new KafkaException(error);
                else
                    _log.Warning("Kafka consumer {0}: {1}", _settings.GroupId, error.Reason);
            })
            .SetLogHandler((_, m) => LogLibrdkafka(m))
            .Build();
    }

    private void LogLibrdkafka(Confluent.Kafka.LogMessage m)
    {
        if (m.Level <= SyslogLevel.Error)
            _log.Error("librdkafka {0}: {1}", m.Facility, m.Message);
        else if (m.Level == SyslogLevel.Warning)
            _log.Warning("librdkafka {0}: {1}", m.Facility, m.Message);
        else
            _log.Debug("librdkafka {0}: {1}", m.Facility, m.Message);
    }

    private bool AnyPaused()
    {
        foreach (var buffer in _assigned.Values)
        {
            if (buffer.Paused && !buffer.Abandoned)
                return true;
        }
        return false;
    }

    private bool NeedsData()
    {
        if (_stopRequested)
            return false;
        if (_assigned.Count == 0)
            return _assignment is null; // polling is how the group assignment arrives; a manual one wakes the loop itself
        foreach (var buffer in _assigned.Values)
        {
            if (!buffer.Paused && !buffer.Abandoned && buffer.Count < _lowWater)
                return true;
        }
        return false;
    }

    private void ApplyStateChanges()
    {
        if (_stopRequested && !_stopHandled)
        {
            _stopHandled = true;
            foreach (var buffer in _assigned.Values)
                buffer.Complete();
            _stopped.TrySetResult();
            _listener?.OnStopped();
        }
        ApplyReplays();
        ApplyAssignment();

        List<TopicPartition>? toPause = null, toResume = null;
        // librdkafka keeps a partition's pause flag across an incremental revoke and re-assign: a partition this
        // consumer paused for back-pressure, lost to another member and got back would stay paused while its new
        // buffer waits for data (cooperative-sticky left partitions unconsumed so). A new assignment starts resumed.
        foreach (var tp in _newlyAssigned)
        {
            if (_assigned.TryGetValue(tp, out var fresh) && !fresh.Paused && !_stopRequested && !fresh.Abandoned)
                (toResume ??= new()).Add(tp);
        }
        _newlyAssigned.Clear();
        foreach (var buffer in _assigned.Values)
        {
            var stopFetching = _stopRequested || buffer.Abandoned;
            if (stopFetching && !buffer.Paused)
            {
                (toPause ??= new()).Add(buffer.TopicPartition);
                buffer.Paused = true;
                if (buffer.Abandoned)
                    buffer.Complete();
            }
            else if (!stopFetching && buffer.Paused && buffer.Count < _lowWater)
            {
                (toResume ??= new()).Add(buffer.TopicPartition);
                buffer.Paused = false;
            }
        }
        if (toPause is not null)
            _consumer!.Pause(toPause);
        if (toResume is not null)
            _consumer!.Resume(toResume);
    }

    /// <summary>
    /// Replaces each assignment asked to replay with a new one (a new epoch, so offsets still in flight from the old one
    /// are ignored) and seeks the partition back to what the old one committed, or to its first fetched record.
    /// </summary>
    private void ApplyReplays()
    {
        while (_replays.TryDequeue(out var replay))
        {
            if (_stopRequested || !_assigned.TryGetValue(replay.Partition, out var old) || old.Epoch != replay.Epoch)
                continue;
            PartitionBuffer fresh;
            long from;
            lock (_commitLock)
            {
                from = old.CommittedNext >= 0 ? old.CommittedNext : old.FirstFetched;
                fresh = new PartitionBuffer(old.TopicPartition, ++_epoch, _lowWater, () => _wake.Set()) { CommittedNext = old.CommittedNext };
                _assigned[old.TopicPartition] = fresh;
                Interlocked.Add(ref _retiredEmitted, Interlocked.Read(ref old.Emitted));
            }
            _lastRouted = null;
            _dirty.Remove(old);
            old.DropPending();
            old.Complete();
            // Seeking drops what librdkafka prefetched for the partition; nothing fetched yet needs no seek.
            if (from >= 0)
                _consumer!.Seek(new TopicPartitionOffset(old.TopicPartition, new Offset(from)));
            _newlyAssigned.Add(old.TopicPartition); // resumed below, whether back-pressure or the abandoned sub-source paused it
            _log.Info("Kafka consumer {0}: replaying {1} from offset {2}", _settings.GroupId, old.TopicPartition,
                from >= 0 ? from.ToString(System.Globalization.CultureInfo.InvariantCulture) : "its current position");
            _listener?.OnRevoked([old]);
            _listener?.OnAssigned([fresh]);
        }
    }

    /// <summary>
    /// Brings the consumer's partitions to the manual <see cref="PartitionAssignment"/>, through the same paths as a
    /// group's incremental rebalance: a dropped partition's sub-source completes and its commits are ignored; a new one
    /// starts from the group's committed offset (librdkafka fetches it; <c>auto.offset.reset</c> without one).
    /// </summary>
    private void ApplyAssignment()
    {
        if (_assignment is null || _stopRequested)
            return;
        // The version before the set: a change in between is applied again on the next turn, to the same effect.
        var version = _assignment.Version;
        if (version == _assignmentApplied)
            return;
        _assignmentApplied = version;
        var wanted = _assignment.Partitions;
        var gone = _assigned.Keys.Where(tp => !wanted.Contains(tp)).ToList();
        var added = wanted.Where(tp => !_assigned.ContainsKey(tp)).OrderBy(tp => tp.Partition.Value).ToList();
        if (gone.Count > 0)
        {
            _consumer!.IncrementalUnassign(gone);
            OnRevoked(gone, "unassigned");
        }
        if (added.Count > 0)
        {
            _consumer!.IncrementalAssign(added);
            OnAssigned(added);
        }
    }

    private void PollBatch(TimeSpan firstTimeout)
    {
        var timeout = (int)firstTimeout.TotalMilliseconds;
        for (var n = 0; n < _settings.PollBatchSize; n++)
        {
            ConsumeResult<TKey, TValue>? result;
            try
            {
                // Before the first assignment polling waits for the group, not for data: not a stall.
                result = n == 0 && timeout > 0 && _assigned.Count > 0 ? ConsumeWaiting(timeout) : _consumer!.Consume(n == 0 ? timeout : 0);
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                _log.Warning("Kafka consumer {0}: {1}", _settings.GroupId, ex.Error.Reason);
                break;
            }
            if (result is null)
                break;
            if (result.IsPartitionEOF)
                continue;
            Route(result);
        }

        if (_dirty.Count == 0)
            return;
        Volatile.Write(ref _batches, _batches + 1);
        foreach (var buffer in _dirty)
            buffer.Flush();
        _dirty.Clear();
        long buffered = 0;
        foreach (var buffer in _assigned.Values)
            buffered += buffer.Count + Volatile.Read(ref buffer.InHand);
        if (buffered > Volatile.Read(ref _peakBuffered))
            Volatile.Write(ref _peakBuffered, buffered);
    }

    /// <summary>A poll that may block: the time it blocks is time librdkafka had nothing ready for partitions that want data.</summary>
    private ConsumeResult<TKey, TValue>? ConsumeWaiting(int timeoutMs)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return _consumer!.Consume(timeoutMs);
        }
        finally
        {
            var waited = Stopwatch.GetTimestamp() - start;
            Volatile.Write(ref _starvedTicks, _starvedTicks + waited);
            if (waited >= StarvedPollTicks)
                Volatile.Write(ref _starvedPolls, _starvedPolls + 1);
        }
    }

    private void Route(ConsumeResult<TKey, TValue> result)
    {
        Volatile.Write(ref _fetched, _fetched + 1);
        var buffer = _lastRouted;
        if (buffer is null || buffer.TopicPartition.Partition.Value != result.Partition.Value
                           || !string.Equals(buffer.TopicPartition.Topic, result.Topic, StringComparison.Ordinal))
        {
            if (!_assigned.TryGetValue(new TopicPartition(result.Topic, result.Partition), out buffer))
            {
                // Not (or no longer) ours.
                _keyDeserializer.ClearFailure();
                _valueDeserializer.ClearFailure();
                return;
            }
            _lastRouted = buffer;
        }
        if (buffer.FirstFetched < 0)
        {
            buffer.FirstFetched = result.Offset.Value;
            buffer.BacklogEnd = HighWatermark(buffer.TopicPartition);
        }

        object entry;
        if (_keyDeserializer.Failure is not null || _valueDeserializer.Failure is not null)
            entry = DeadLetter(result, buffer);
        else
            entry = new CommittableMessage<TKey, TValue>(result,
                new CommittableOffset(result.Topic, result.Partition.Value, result.Offset.Value, buffer.Epoch, this)) { BacklogEnd = buffer.BacklogEnd };

        if (buffer.Pending.Count == 0)
            _dirty.Add(buffer);
        buffer.Pending.Add(entry);
        if (!buffer.Paused && buffer.Count + Volatile.Read(ref buffer.InHand) + buffer.Pending.Count >= _settings.MaxBufferPerPartition)
        {
            buffer.Paused = true;
            _consumer!.Pause([buffer.TopicPartition]);
            Volatile.Write(ref _pauses, _pauses + 1);
        }
    }

    /// <summary>librdkafka's copy from the last fetch response for the partition (no broker round trip); null if it has none.</summary>
    private long? HighWatermark(TopicPartition partition)
    {
        try
        {
            var high = _consumer!.GetWatermarkOffsets(partition).High;
            return high.IsSpecial ? null : high.Value;
        }
        catch (KafkaException)
        {
            return null;
        }
    }

    private DeadLetterEntry DeadLetter(ConsumeResult<TKey, TValue> result, PartitionBuffer buffer)
    {
        var keyFailed = _keyDeserializer.Failure is not null;
        var cause = _keyDeserializer.Failure ?? _valueDeserializer.Failure!;
        var rawKey = _keyDeserializer.RawCopy();
        var rawValue = keyFailed ? null : _valueDeserializer.RawCopy();
        _keyDeserializer.ClearFailure();
        _valueDeserializer.ClearFailure();

        var reason = $"{(keyFailed ? "key" : "value")} deserialization failed: {cause.GetType().Name}: {cause.Message}";
        var keyText = keyFailed || result.Message.Key is null
            ? (rawKey is null ? "<null>" : Encoding.UTF8.GetString(rawKey))
            : result.Message.Key.ToString();
        Volatile.Write(ref _deadLettered, _deadLettered + 1);

        if (_deadLetterProducer is null || _settings.DeadLetterTopic is null)
        {
            _log.Error(cause, "Skipping record {0}[{1}]@{2} with key {3}: {4} (no dead-letter topic configured)",
                result.Topic, result.Partition.Value, result.Offset.Value, keyText, reason);
            return new DeadLetterEntry(result.Offset.Value, Task.CompletedTask);
        }

        _log.Error(cause, "Record {0}[{1}]@{2} with key {3} goes to dead-letter topic {4}: {5}",
            result.Topic, result.Partition.Value, result.Offset.Value, keyText, _settings.DeadLetterTopic, reason);
        var headers = new Headers();
        if (result.Message.Headers is { } original)
        {
            foreach (var header in original)
                headers.Add(header.Key, header.GetValueBytes());
        }
        headers.Add("reason", Encoding.UTF8.GetBytes(reason));
        headers.Add("source-topic", Encoding.UTF8.GetBytes(result.Topic));
        headers.Add("source-partition", Encoding.UTF8.GetBytes(result.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        headers.Add("source-offset", Encoding.UTF8.GetBytes(result.Offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var message = new Message<byte[], byte[]> { Key = rawKey!, Value = rawValue!, Headers = headers, Timestamp = result.Message.Timestamp };
        try
        {
            _deadLetterProducer.Produce(_settings.DeadLetterTopic, message, report =>
            {
                if (report.Error.IsError)
                    delivered.TrySetException(new ProduceException<byte[], byte[]>(report.Error, report));
                else
                    delivered.TrySetResult();
            });
        }
        catch (Exception ex)
        {
            delivered.TrySetException(ex);
        }
        return new DeadLetterEntry(result.Offset.Value, delivered.Task);
    }

    // Under cooperative-sticky assignment both handlers receive only the partitions that change owner (the
    // client then assigns or unassigns them incrementally); every rebalance also calls the assign handler, often
    // with nothing new. Partitions not named stay assigned, with their buffers and offsets untouched.
    private void OnAssigned(List<TopicPartition> partitions)
    {
        if (partitions.Count == 0)
            return;
        var fresh = new List<PartitionBuffer>(partitions.Count);
        lock (_commitLock)
        {
            foreach (var tp in partitions)
            {
                var buffer = new PartitionBuffer(tp, ++_epoch, _lowWater, () => _wake.Set());
                _assigned[tp] = buffer;
                // Resumed on the next turn of the loop: inside this handler the assignment is not applied yet.
                _newlyAssigned.Add(tp);
                if (_stopRequested)
                    buffer.Complete();
                else
                    fresh.Add(buffer);
            }
        }
        _log.Info("Kafka consumer {0}: assigned {1}", _settings.GroupId, string.Join(", ", partitions));
        if (fresh.Count > 0)
            _listener?.OnAssigned(fresh);
    }

    private void OnRevoked(IEnumerable<TopicPartition> partitions, string how)
    {
        var gone = new List<PartitionBuffer>();
        lock (_commitLock)
        {
            foreach (var tp in partitions)
            {
                if (_assigned.Remove(tp, out var buffer))
                {
                    gone.Add(buffer);
                    Interlocked.Add(ref _retiredEmitted, Interlocked.Read(ref buffer.Emitted));
                }
            }
        }
        _lastRouted = null;
        foreach (var buffer in gone)
        {
            buffer.DropPending();
            buffer.Complete();
        }
        if (gone.Count == 0)
            return;
        _dirty.RemoveAll(b => gone.Contains(b));
        _log.Info("Kafka consumer {0}: {1} {2}", _settings.GroupId, how, string.Join(", ", gone.Select(b => b.TopicPartition)));
        _listener?.OnRevoked(gone);
    }

    private void CloseDown(Exception? failure)
    {
        _stopRequested = true;
        _shutdownRequested = true;
        foreach (var buffer in _assigned.Values)
            buffer.Complete(failure);
        if (failure is not null)
            _listener?.OnFailed(failure);
        else if (!_stopHandled)
            _listener?.OnStopped();
        _stopHandled = true;
        _stopped.TrySetResult();
        _listener = null; // the revocation that Close() triggers concerns nobody any more
        if (_assignment is not null)
            _assignment.Changed -= _wakeUp;

        // Commits already requested go out before the consumer leaves the group.
        _commitsClosed = true;
        _commitsWaiting.Set();
        _commitThread?.Join();
        try
        {
            _consumer?.Close();
        }
        catch (Exception ex)
        {
            _log.Warning("Closing Kafka consumer {0}: {1}", _settings.GroupId, ex.Message);
        }
        _consumer?.Dispose();
        if (_deadLetterProducer is not null)
        {
            _deadLetterProducer.Flush(TimeSpan.FromSeconds(10));
            _deadLetterProducer.Dispose();
        }
        _shutdown.TrySetResult();
    }

    // ---------------------------------------------------------------- dead letters and commits

    /// <summary>Sub-source: the dead letter of <paramref name="offset"/> is acknowledged.</summary>
    public void DeadLetterDone(PartitionBuffer buffer, long offset)
    {
        lock (_commitLock)
        {
            if (!_assigned.TryGetValue(buffer.TopicPartition, out var current) || !ReferenceEquals(current, buffer))
                return;
            buffer.DeadLetters.Enqueue((offset, Interlocked.Read(ref buffer.LastEmitted)));
        }
        if (_commitsExpected)
            Enqueue(new CommitRequest([], buffer, null));
    }

    public void Replay(CommittableOffset emitted)
    {
        _replays.Enqueue((new TopicPartition(emitted.Topic, emitted.Partition), emitted.AssignmentEpoch));
        _wake.Set();
    }

    public Task CommitAsync(IReadOnlyCollection<CommittableOffset> offsets)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new CommitRequest(offsets, null, done));
        return done.Task;
    }

    private void Enqueue(CommitRequest request)
    {
        if (_commitsClosed)
        {
            request.Done?.TrySetException(new InvalidOperationException(
                $"The Kafka consumer of group {_settings.GroupId} is shut down; the offsets were not committed"));
            return;
        }
        _commitQueue.Enqueue(request);
        _commitsWaiting.Set();
        if (_commitsClosed)
            FailQueuedCommits(); // closed meanwhile: the commit thread may be gone already
    }

    private void FailQueuedCommits()
    {
        while (_commitQueue.TryDequeue(out var late))
            late.Done?.TrySetException(new InvalidOperationException(
                $"The Kafka consumer of group {_settings.GroupId} is shut down; the offsets were not committed"));
    }

    /// <summary>Commit thread: waits for requests and takes all that are queued; false once closed and drained.</summary>
    private bool TakeCommitRequests(List<CommitRequest> batch)
    {
        while (true)
        {
            _commitsWaiting.Reset();
            while (_commitQueue.TryDequeue(out var request))
                batch.Add(request);
            if (batch.Count > 0)
                return true;
            if (_commitsClosed)
            {
                // A request may have slipped in while closing: fail it rather than leave its caller waiting.
                FailQueuedCommits();
                return false;
            }
            _commitsWaiting.Wait();
        }
    }

    private void CommitLoop()
    {
        var batch = new List<CommitRequest>();
        var touched = new HashSet<PartitionBuffer>();
        while (true)
        {
            batch.Clear();
            touched.Clear();
            if (!TakeCommitRequests(batch))
                return;

            var toCommit = new List<(PartitionBuffer Buffer, long Next)>();
            lock (_commitLock)
            {
                foreach (var request in batch)
                {
                    if (request.Poke is { } poked && _assigned.TryGetValue(poked.TopicPartition, out var current)
                                                  && ReferenceEquals(current, poked))
                        touched.Add(poked);
                    foreach (var offset in request.Offsets)
                    {
                        if (!_assigned.TryGetValue(new TopicPartition(offset.Topic, offset.Partition), out var buffer)
                            || buffer.Epoch != offset.AssignmentEpoch)
                            continue; // from an assignment that was revoked: the next owner re-reads it
                        touched.Add(buffer);
                        var next = offset.Offset + 1;
                        if (next > buffer.RequestedNext)
                            buffer.RequestedNext = next;
                    }
                }
                foreach (var buffer in touched)
                {
                    var target = Math.Max(buffer.RequestedNext, buffer.CommittedNext);
                    // Skip over acknowledged dead letters once everything emitted before them is committed.
                    while (buffer.DeadLetters.TryPeek(out var dl))
                    {
                        if (dl.Offset < target)
                            buffer.DeadLetters.Dequeue();
                        else if (dl.LastEmittedBefore == long.MinValue || dl.LastEmittedBefore < target)
                        {
                            target = dl.Offset + 1;
                            buffer.DeadLetters.Dequeue();
                        }
                        else
                            break;
                    }
                    buffer.RequestedNext = target;
                    if (target > buffer.CommittedNext)
                        toCommit.Add((buffer, target));
                }
            }

            Exception? error = null;
            if (toCommit.Count > 0)
                error = Commit(toCommit);
            foreach (var request in batch)
            {
                if (error is null)
                    request.Done?.TrySetResult();
                else
                    request.Done?.TrySetException(error);
            }
        }
    }

    private Exception? Commit(List<(PartitionBuffer Buffer, long Next)> toCommit)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            _consumer!.Commit(toCommit.Select(c => new TopicPartitionOffset(c.Buffer.TopicPartition, new Offset(c.Next))));
            Interlocked.Increment(ref _commits);
            lock (_commitLock)
            {
                foreach (var (buffer, next) in toCommit)
                    buffer.CommittedNext = Math.Max(buffer.CommittedNext, next);
            }
            return null;
        }
        catch (TopicPartitionOffsetException ex)
        {
            lock (_commitLock)
            {
                foreach (var (buffer, next) in toCommit)
                {
                    var outcome = ex.Results.FirstOrDefault(r => r.TopicPartition == buffer.TopicPartition);
                    if (outcome is null || !outcome.Error.IsError)
                        buffer.CommittedNext = Math.Max(buffer.CommittedNext, next);
                }
            }
            var fatal = ex.Results.FirstOrDefault(r => r.Error.IsError && !IsRebalanceError(r.Error.Code));
            if (fatal is null)
            {
                _log.Warning("Kafka consumer {0}: commit dropped by a rebalance ({1}); the records will be read again",
                    _settings.GroupId, ex.Error.Reason);
                return null;
            }
            return ex;
        }
        catch (KafkaException ex) when (IsRebalanceError(ex.Error.Code))
        {
            _log.Warning("Kafka consumer {0}: commit dropped by a rebalance ({1}); the records will be read again",
                _settings.GroupId, ex.Error.Reason);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
        finally
        {
            Interlocked.Add(ref _commitTicks, Stopwatch.GetTimestamp() - start);
        }
    }

    private static bool IsRebalanceError(ErrorCode code) => code is ErrorCode.RebalanceInProgress
        or ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId or ErrorCode.Local_State
        or ErrorCode.Local_AssignmentLost or ErrorCode.FencedInstanceId;

    private sealed record CommitRequest(IReadOnlyCollection<CommittableOffset> Offsets, PartitionBuffer? Poke, TaskCompletionSource? Done);
}
