using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Kafka;
using SmartGrid.Storage;

namespace SmartGrid.Ingestion;

/// <summary>Where the pump publishes and whose progress completes a ledger row.</summary>
/// <param name="ConsumerGroup">The processor's group: a row is done once it committed past every record of it.</param>
public sealed record LedgerTarget(string BootstrapServers, string Topic, int Partitions, string ConsumerGroup);

/// <summary>
/// Feeds Kafka from the ingest ledger: publishes this node's rows to raw_readings in id order, learns
/// from the delivery reports where each row's records landed (per partition, the highest offset), and
/// deletes a row once the processor group has committed past all of it. Owns the only copy that
/// matters after the acknowledgement, so it trusts the broker with nothing:
/// <list type="bullet">
/// <item>it publishes only while every partition's unconsumed backlog is under
///   <see cref="IngestionOptions.MaxBrokerBacklog"/>, so a bounded broker log never drops what the
///   processor has not read; the rest waits in PostgreSQL, in order;</item>
/// <item>a row whose records the broker lost (its log restarted: a watermark or a delivered offset went
///   backwards; or the log no longer reaches the record; or retention dropped it unconsumed) is published again;</item>
/// <item>on start it adopts every row of its owner and publishes them again, oldest first, before newer ones.</item>
/// </list>
/// A republish is harmless: meters drop a reading they already have (meter_id, timestamp).
/// </summary>
public sealed class LedgerPump(
    IngestLedger ledger,
    IngestionOptions options,
    LedgerTarget target,
    LedgerBacklog backlog,
    IngestionMetrics metrics,
    ILogger<LedgerPump> log) : BackgroundService
{
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(2);
    private const int PayloadReadBatch = 64;

    private readonly ConcurrentQueue<Row> _appended = new();
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly SortedDictionary<long, Row> _rows = [];
    private readonly SortedSet<long> _unplaced = [];
    private readonly string _owner = options.LedgerOwner ?? throw new InvalidOperationException($"{IngestionOptions.Section}:LedgerOwner is not set");

    // Per partition, as last probed or reported.
    private readonly long[] _high = Filled(target.Partitions, -1);
    private readonly long[] _brokerBacklog = new long[target.Partitions];
    private readonly long[] _deliveredSinceProbe = new long[target.Partitions];
    private readonly long[] _lastDelivered = Filled(target.Partitions, -1);
    // Bumped when a partition's log is found restarted: placements of an older epoch are lost.
    private readonly int[] _epoch = new int[target.Partitions];

    private long _payloadBytes;
    private long _inFlight;
    private long _highestAppended;
    private long _placedThrough;
    private bool _probed;
    private long _retryAt;

    /// <summary>Hands a committed row to the pump (its payload is kept in memory while the bound allows).</summary>
    public void Enqueue(long id, int readings, EncodedBatch payload)
    {
        backlog.Add(1, readings);
        var keep = Interlocked.Add(ref _payloadBytes, payload.Length) <= options.LedgerMemoryBytes;
        if (!keep)
        {
            Interlocked.Add(ref _payloadBytes, -payload.Length);
            payload.Dispose();
        }
        _appended.Enqueue(new Row(id, readings, keep ? payload : null, target.Partitions));
        InterlockedMax(ref _highestAppended, id);
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    /// <summary>Waits until every row enqueued so far has been acknowledged by Kafka at least once (tests read the topic after it).</summary>
    public async Task WaitPublishedAsync(TimeSpan timeout)
    {
        var goal = Interlocked.Read(ref _highestAppended);
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Interlocked.Read(ref _placedThrough) < goal)
        {
            if (Stopwatch.GetTimestamp() > until)
                throw new TimeoutException($"ledger rows up to {goal} not published within {timeout} (placed through {Interlocked.Read(ref _placedThrough)})");
            await Task.Delay(10);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        KafkaNative.EnsureLoaded();
        using var producer = ProducerSettings.Create(target.BootstrapServers, Serializers.ByteArray, Serializers.ByteArray).CreateProducer();
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = target.BootstrapServers, GroupId = target.ConsumerGroup, EnableAutoCommit = false,
        }).Build();
        var partitions = Enumerable.Range(0, target.Partitions).Select(p => new TopicPartition(target.Topic, p)).ToList();

        try
        {
            await AdoptAsync(stoppingToken);
            var nextProbe = 0L;
            while (!stoppingToken.IsCancellationRequested)
            {
                DrainAppended();
                ApplyDeliveries();
                if (Stopwatch.GetTimestamp() >= nextProbe)
                {
                    // Not cancelled by the stop: the probe must be done with the consumer before it is disposed.
                    if (await Task.Run(() => ReadOffsets(probe, partitions), CancellationToken.None) is { } offsets)
                        await SettleAsync(offsets, stoppingToken);
                    nextProbe = Stopwatch.GetTimestamp() + (long)(options.LedgerProbeInterval.TotalSeconds * Stopwatch.Frequency);
                }
                await PublishAsync(producer, stoppingToken);
                UpdatePlacedThrough();
                await _wake.WaitAsync(IdleWait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // What is not placed stays in the ledger: the next start publishes it again.
        }
        finally
        {
            producer.Flush(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Takes over the rows this owner left in the ledger (a previous run's), to publish them first.</summary>
    private async Task AdoptAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var pending = await ledger.PendingAsync(_owner, ct);
                long readings = 0;
                foreach (var (id, count) in pending)
                {
                    if (!_rows.TryAdd(id, new Row(id, count, null, target.Partitions))) continue;
                    _unplaced.Add(id);
                    backlog.Add(1, count);
                    readings += count;
                }
                if (pending.Count > 0)
                {
                    log.LedgerLeftovers(pending.Count, _owner, readings);
                    metrics.Republished(readings);
                }
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                log.LedgerUnavailable(e.Message);
                await Task.Delay(FailureBackoff, ct);
            }
        }
    }

    private void DrainAppended()
    {
        while (_appended.TryDequeue(out var row))
        {
            if (_rows.TryAdd(row.Id, row))
            {
                _unplaced.Add(row.Id);
                continue;
            }
            // Adopted already (committed just before the adoption read it): counted once.
            backlog.Remove(1, row.Readings);
            ReleasePayload(row);
        }
    }

    private void ApplyDeliveries()
    {
        while (_deliveries.TryDequeue(out var d))
        {
            _inFlight--;
            var row = d.Row;
            if (d.Attempt != row.Attempt || row.State != RowState.Publishing) continue;
            if (d.Error is { } error)
            {
                if (!row.Failed) log.RowNotTaken(row.Id, error);
                row.Failed = true;
            }
            else
            {
                // Reports of one partition come in offset order: a lower offset means a new log.
                if (d.Offset < _lastDelivered[d.Partition]) NewLog(d.Partition, $"delivered offset {d.Offset} after {_lastDelivered[d.Partition]}");
                _lastDelivered[d.Partition] = d.Offset;
                row.Offsets[d.Partition] = Math.Max(row.Offsets[d.Partition], d.Offset);
                row.Epochs[d.Partition] = _epoch[d.Partition];
                _deliveredSinceProbe[d.Partition]++;
            }
            if (--row.Outstanding > 0) continue;
            if (row.Failed)
            {
                Unplace(row);
                _retryAt = Stopwatch.GetTimestamp() + (long)(FailureBackoff.TotalSeconds * Stopwatch.Frequency);
            }
            else
            {
                row.State = RowState.Placed;
                ReleasePayload(row); // a republish reads it back from PostgreSQL
            }
        }
    }

    /// <summary>Committed offsets of the processor group and the watermarks, per partition; null when the broker does not answer.</summary>
    private Offsets? ReadOffsets(IConsumer<Ignore, Ignore> probe, List<TopicPartition> partitions)
    {
        try
        {
            var committed = probe.Committed(partitions, BrokerTimeout);
            var result = new Offsets(new long[partitions.Count], new long[partitions.Count], new long[partitions.Count]);
            foreach (var c in committed)
            {
                var p = c.Partition.Value;
                var marks = probe.QueryWatermarkOffsets(c.TopicPartition, BrokerTimeout);
                result.Low[p] = marks.Low.Value;
                result.High[p] = marks.High.Value;
                result.Committed[p] = c.Offset.IsSpecial ? -1 : c.Offset.Value;
            }
            return result;
        }
        catch (KafkaException e)
        {
            log.BrokerOffsetsUnavailable(e.Message);
            return null;
        }
    }

    /// <summary>From one probe: the budget, the rows the broker lost (published again) and the rows consumed (deleted).</summary>
    private async Task SettleAsync(Offsets offsets, CancellationToken ct)
    {
        for (var p = 0; p < target.Partitions; p++)
        {
            if (offsets.High[p] < _high[p]) NewLog(p, $"high watermark {offsets.High[p]} below {_high[p]}");
            _high[p] = offsets.High[p];
            _brokerBacklog[p] = offsets.High[p] - Math.Max(offsets.Committed[p], offsets.Low[p]);
            _deliveredSinceProbe[p] = 0;
        }
        _probed = true;

        List<Row>? done = null;
        long lost = 0;
        foreach (var row in _rows.Values)
        {
            if (row.State != RowState.Placed) continue;
            var consumed = true;
            for (var p = 0; p < target.Partitions; p++)
            {
                var offset = row.Offsets[p];
                if (offset < 0) continue;
                var gone = row.Epochs[p] != _epoch[p] || offsets.High[p] <= offset
                           || offsets.Low[p] > offset && offsets.Committed[p] <= offset;
                if (gone)
                {
                    Unplace(row);
                    lost += row.Readings;
                    consumed = false;
                    break;
                }
                if (offsets.Committed[p] <= offset) consumed = false;
            }
            if (consumed) (done ??= []).Add(row);
        }
        if (lost > 0)
        {
            metrics.Republished(lost);
            log.BrokerLostReadings(lost);
        }
        if (done is null) return;
        try
        {
            await ledger.DeleteAsync(done.Select(r => r.Id).ToArray(), ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            log.DeleteConsumedFailed(done.Count, e.Message);
            return;
        }
        foreach (var row in done)
        {
            _rows.Remove(row.Id);
            backlog.Remove(1, row.Readings);
        }
    }

    /// <summary>Publishes unplaced rows, oldest first, while the broker's backlog is under budget.</summary>
    private async Task PublishAsync(IProducer<byte[], byte[]> producer, CancellationToken ct)
    {
        if (!_probed || _unplaced.Count == 0 || Stopwatch.GetTimestamp() < _retryAt)
        {
            backlog.Throttled = false;
            return;
        }
        while (_unplaced.Count > 0 && !ct.IsCancellationRequested)
        {
            if (OverBudget())
            {
                backlog.Throttled = true;
                return;
            }
            var row = _rows[_unplaced.Min];
            if (row.Payload is null && !await LoadPayloadsAsync(ct)) return;
            if (row.Payload is null)
            {
                // Deleted under us (never by this node while unplaced): nothing left to publish.
                _unplaced.Remove(row.Id);
                _rows.Remove(row.Id);
                backlog.Remove(1, row.Readings);
                continue;
            }
            await ProduceAsync(producer, row, row.Payload, ct);
            ApplyDeliveries();
        }
        backlog.Throttled = false;
    }

    private bool OverBudget()
    {
        long worst = 0;
        for (var p = 0; p < target.Partitions; p++)
            worst = Math.Max(worst, _brokerBacklog[p] + _deliveredSinceProbe[p]);
        return worst + _inFlight >= options.MaxBrokerBacklog;
    }

    private async Task ProduceAsync(IProducer<byte[], byte[]> producer, Row row, EncodedBatch payload, CancellationToken ct)
    {
        var records = LedgerPayload.Decode(payload.Span);
        var attempt = ++row.Attempt;
        row.State = RowState.Publishing;
        row.Failed = false;
        row.Outstanding = records.Count;
        Array.Fill(row.Offsets, -1);
        _unplaced.Remove(row.Id);
        Action<DeliveryReport<byte[], byte[]>> report = r => _deliveries.Enqueue(new Delivery(row, attempt, r.Partition.Value, r.Offset.Value,
            r.Error.IsError ? $"{r.Error.Reason} ({r.Error.Code})" : null));
        for (var i = 0; i < records.Count; i++)
        {
            var message = new Message<byte[], byte[]> { Key = records[i].Key, Value = records[i].Value };
            while (true)
            {
                try
                {
                    producer.Produce(target.Topic, message, report);
                    _inFlight++;
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The producer's queue is back-pressure: let deliveries drain it.
                    await Task.Delay(2, ct);
                    ApplyDeliveries();
                }
                catch (KafkaException e)
                {
                    log.RowRefused(row.Id, e.Error.Reason);
                    row.Failed = true;
                    row.Outstanding -= records.Count - i;
                    if (row.Outstanding == 0) Unplace(row);
                    _retryAt = Stopwatch.GetTimestamp() + (long)(FailureBackoff.TotalSeconds * Stopwatch.Frequency);
                    return;
                }
            }
        }
    }

    /// <summary>Reads back the payloads of the next unplaced rows that have none in memory; false when PostgreSQL does not answer.</summary>
    private async Task<bool> LoadPayloadsAsync(CancellationToken ct)
    {
        var ids = _unplaced.Where(id => _rows[id].Payload is null).Take(PayloadReadBatch).ToArray();
        try
        {
            var payloads = await ledger.PayloadsAsync(ids, ct);
            foreach (var (id, payload) in payloads)
            {
                _rows[id].Payload = new EncodedBatch(payload);
                Interlocked.Add(ref _payloadBytes, payload.Length);
            }
            // An id without a payload was deleted meanwhile: the caller drops it.
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            log.ReadBackFailed(ids.Length, e.Message);
            _retryAt = Stopwatch.GetTimestamp() + (long)(FailureBackoff.TotalSeconds * Stopwatch.Frequency);
            return false;
        }
    }

    private void NewLog(int partition, string evidence)
    {
        _epoch[partition]++;
        _lastDelivered[partition] = -1;
        log.PartitionRestarted(target.Topic, partition, evidence);
    }

    private void Unplace(Row row)
    {
        row.State = RowState.Unplaced;
        row.Attempt++;
        _unplaced.Add(row.Id);
    }

    private void ReleasePayload(Row row)
    {
        if (row.Payload is null) return;
        Interlocked.Add(ref _payloadBytes, -row.Payload.Length);
        row.Payload.Dispose();
        row.Payload = null;
    }

    private void UpdatePlacedThrough()
    {
        var through = Interlocked.Read(ref _highestAppended);
        if (!_appended.IsEmpty) return;
        foreach (var row in _rows.Values)
        {
            if (row.State == RowState.Placed) continue;
            through = row.Id - 1;
            break;
        }
        Interlocked.Exchange(ref _placedThrough, through);
    }

    private static long[] Filled(int length, long value)
    {
        var array = new long[length];
        Array.Fill(array, value);
        return array;
    }

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private enum RowState { Unplaced, Publishing, Placed }

    /// <summary>A ledger row as the pump tracks it; touched only by the pump's loop.</summary>
    private sealed class Row(long id, int readings, EncodedBatch? payload, int partitions)
    {
        public long Id { get; } = id;
        public int Readings { get; } = readings;
        public EncodedBatch? Payload { get; set; } = payload;
        public RowState State { get; set; }
        public int Attempt { get; set; }
        public int Outstanding { get; set; }
        public bool Failed { get; set; }

        /// <summary>Per partition, the highest offset a record of this row got (-1: none there).</summary>
        public long[] Offsets { get; } = Filled(partitions, -1);

        public int[] Epochs { get; } = new int[partitions];
    }

    private readonly record struct Delivery(Row Row, int Attempt, int Partition, long Offset, string? Error);

    private sealed record Offsets(long[] Low, long[] High, long[] Committed);
}
