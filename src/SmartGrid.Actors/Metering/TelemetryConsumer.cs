using System.Text.Json;
using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;
using SmartGrid.Actors.Hosting;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Kafka raw_readings → meters, with back-pressure and exactly-once effect. One sub-stream per
/// assigned partition groups readings for a short time and sends each bucket of meters
/// (<see cref="MeterBucket"/>) its share in one message (bounded parallelism, order kept); the
/// meters apply them in memory. Every checkpoint interval the sub-stream asks each bucket it
/// touched to persist, and only when all have answered does the last offset before that barrier
/// reach the committer. A crash (or a bucket restarted in between, which refuses the checkpoint)
/// replays the uncommitted tail, and the meters drop what they already hold.
/// </summary>
public static class TelemetryConsumer
{
    public const string GroupId = "stream-processor-group";

    /// <param name="AsksInFlight">
    /// Buckets asked at once over all the node's partitions, for each kind of ask (record, checkpoint); see <see cref="DefaultAsksInFlight"/>.
    /// </param>
    public sealed record Settings(int MaxBatch, TimeSpan MaxBatchInterval, int GroupsInFlight, TimeSpan AskTimeout, TimeSpan CheckpointInterval,
        int AsksInFlight = DefaultAsksInFlight);

    /// <summary>
    /// Buckets asked to record, and buckets asked to persist, at once over all the node's partitions. When an ask went
    /// to each meter, this bound kept tens of thousands of meter recoveries or writes from queueing behind each other past
    /// the ask timeout. A bucket now loads a group's missing meters together and writes a checkpoint in one journal call,
    /// and a partition asks at most its 16 buckets per group, so the bound is only a ceiling on messages out at once
    /// (groups in flight × buckets × partitions stays far below it); past it a group waits for a place, and with it the
    /// partition: back-pressure, not a timeout.
    /// </summary>
    public const int DefaultAsksInFlight = 2_000;

    /// <summary>One pass of the stream: completes (or fails) when the consumer stops; see <see cref="Hosting.RestartingConsumer"/>.</summary>
    /// <param name="partitions">The raw_readings partitions this node reads, which the cluster decides (<see cref="Hosting.TelemetryPartitions"/>).</param>
    /// <param name="gate">Holds each group to the meter registry before the meters see it (null: readings are taken as they are).</param>
    /// <param name="abandon">
    /// The next member removal, watched by each partition run from its start (see <see cref="Hosting.MemberRemovals"/>):
    /// a removal cancels the asks of a run that asked buckets not hosted on this node, and the partition is read again from
    /// its commits, and only it, once the dead member's shards have left the coordinator's view, instead of waiting out
    /// the ask timeout for answers that cannot come. A run that asked only this node's buckets goes on.
    /// </param>
    public static Source<Done, IControl> Create(ConsumerSettings<string, TelemetryReading> consumer, PartitionAssignment partitions, IActorRef meters,
        Settings settings, CommitterSettings committer, IMaterializer materializer, RegistryGate? gate = null, Func<MemberRemovals.Removal>? abandon = null)
    {
        var system = ((ActorMaterializer)materializer).System;
        var journalFailures = JournalFailures.For(system);
        var places = new AskPlaces(new SemaphoreSlim(settings.AsksInFlight), new SemaphoreSlim(settings.AsksInFlight));
        return KafkaConsumer.CommittablePartitionedSource(consumer, partitions)
            .SelectAsyncUnordered(64, partition => RunReplayingLost(partition.Item2,
                Asks.For(meters, ((ExtendedActorSystem)system).Provider, settings.AskTimeout, journalFailures, places, abandon), settings, committer, materializer, gate));
    }

    /// <summary>
    /// A run whose recorded readings are lost reads its partition again from the commits, with a new run, while the
    /// consumer stays in its group: the run was abandoned because a processor left (its meters' answers never come),
    /// or a bucket restarted before its checkpoint (its meters' readings all come from this partition, keyed by meter).
    /// Restarting the whole stream instead would rejoin the group, and the rebalance that causes stops every
    /// partition of every member for seconds. Any other failure fails the stream (<see cref="Hosting.RestartingConsumer"/>
    /// restarts it with back-off).
    /// </summary>
    private static async Task<Done> RunReplayingLost(Source<CommittableMessage<string, TelemetryReading>, NotUsed> partition, Asks asks,
        Settings settings, CommitterSettings committer, IMaterializer materializer, RegistryGate? gate)
    {
        using var _ = asks;
        CommittableOffset? emitted = null;
        try
        {
            return await RunPartition(partition.Select(m =>
            {
                emitted ??= m.CommittableOffset;
                return m;
            }), asks, settings, committer, materializer, gate);
        }
        catch (Exception e) when (emitted is not null && (asks.Abandon.IsCancellationRequested || e.GetBaseException() is BucketRestartedException))
        {
            // A bucket that keeps restarting must not turn the replay into a busy loop: the stream restart's first back-off.
            if (!asks.Abandon.IsCancellationRequested)
                await Task.Delay(StreamRestarts.MinBackoff);
            else
                await asks.HandedOver;
            emitted.ReplayPartition();
            PipelineMetrics.PartitionReplays.Add(1);
            return Done.Instance;
        }
    }

    /// <summary>The node's places for asks in flight, one set per kind: see <see cref="DefaultAsksInFlight"/>.</summary>
    private sealed record AskPlaces(SemaphoreSlim Records, SemaphoreSlim Checkpoints);

    /// <summary>
    /// How a partition's sub-stream talks to the buckets: its run, how long it waits, and what ends the wait
    /// early: this pass abandoned (a processor left), or a bucket that failed its journal (see <see cref="JournalFailures"/>).
    /// Each bucket asked takes a place among the node's first, and its timeout runs from when it is sent (see <see cref="AskDeadlines"/>);
    /// the answers of a group's or a checkpoint's buckets come to one ref (<see cref="BucketReplies"/>).
    /// </summary>
    private sealed record Asks(IActorRef Meters, IActorRefProvider Provider, long Run, TimeSpan Timeout, JournalFailures JournalFailures, AskPlaces Places,
        MemberRemovals.RunWatch Removals) : IDisposable
    {
        private readonly AskDeadlines _deadlines = new(Timeout, JournalFailures, Removals.Token);

        public static Asks For(IActorRef meters, IActorRefProvider provider, TimeSpan timeout, JournalFailures journalFailures, AskPlaces places,
            Func<MemberRemovals.Removal>? removals) =>
            new(meters, provider, StreamRuns.Next(), timeout, journalFailures, places, new MemberRemovals.RunWatch(removals));

        public CancellationToken Abandon => Removals.Token;

        public Task HandedOver => Removals.HandedOver;

        /// <summary>Completes once every message is sent, in order, with the answers (in the same order) still to come.</summary>
        public async Task<Task<object?[]>> SendAsync(SemaphoreSlim places, IReadOnlyList<IBucketMessage> messages)
        {
            foreach (var message in messages)
                Removals.Asking(message.BucketId);
            var replies = new BucketReplies(Provider, messages, places, Timeout, Abandon);
            await replies.SendAsync(Meters, _deadlines);
            return replies.Answers;
        }

        public void Dispose()
        {
            _deadlines.Dispose();
            Removals.Dispose();
        }
    }

    private static Task<Done> RunPartition(Source<CommittableMessage<string, TelemetryReading>, NotUsed> partition, Asks asks,
        Settings settings, CommitterSettings committer, IMaterializer materializer, RegistryGate? gate)
    {
        var firstCheckpointed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var firstRecorded = TimeSpan.Zero;
        var catchUp = new CatchUp();
        return partition
            // GroupedWeightedWithin's clock before the catch-up cut: a steady stream's readings wait no longer than they did.
            .Via(new GroupsWithin<CommittableMessage<string, TelemetryReading>>(settings.MaxBatchInterval, settings.MaxBatch, catchUp.CutAfter, ticking: true))
            // One group at a time through the gate and out to the meters, so groups reach the meters in offset order:
            // SendRecordsAsync completes once its group is sent, before its answers, and a meter's readings stay in order.
            .SelectAsync(1, async group =>
            {
                var messages = group.ToList();
                var checkpointAfter = catchUp.CheckpointAfter(messages);
                return (messages, Readings: gate is null ? messages.Select(m => m.Value).ToList() : await gate.AdmitAsync(messages), checkpointAfter);
            })
            // The small first group is recorded alone: only its meters recover before the first checkpoint, instead of
            // queueing among the backlog's thousands that the next groups would start at the same time.
            .PrefixAndTail(1)
            .ConcatMany(first => Source.From(first.Item1).SelectAsync(1, async admitted =>
                {
                    var recorded = await await SendRecordsAsync(admitted.messages, admitted.Readings, admitted.checkpointAfter, asks);
                    firstRecorded = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                    return recorded;
                })
                .Concat(first.Item2.SelectAsync(1, async admitted =>
                    {
                        // The next groups start their meters only once the first group is checkpointed: sent beside that
                        // checkpoint, they took the node's recovery places, the journal and the CPU with the backlog's
                        // thousands of meters, and a fresh node's first commit waited for them, longer the larger the fleet.
                        await firstCheckpointed.Task;
                        return await SendRecordsAsync(admitted.messages, admitted.Readings, admitted.checkpointAfter, asks);
                    })
                    .SelectAsync(settings.GroupsInFlight, answers => answers)))
            // Groups are checkpointed together every checkpoint interval, and the run's first and the one that ends its
            // backlog (see CatchUp) as soon as they are recorded.
            .Via(new GroupsWithin<Recorded>(settings.CheckpointInterval, GroupsPerCheckpoint, recorded => recorded.CheckpointAfter))
            .SelectAsync(1, async recorded =>
            {
                var merged = Recorded.Merge(recorded);
                var offset = await CheckpointAsync(merged, asks);
                var system = ((ActorMaterializer)materializer).System;
                // A restart's or a replay's first commit, the figure README "Restart at scale" follows, in the node's log.
                if (firstCheckpointed.TrySetResult())
                {
                    FirstCheckpoint.Get(system).Reached();
                    Logging.GetLogger(system, "SmartGrid.Pipeline").Info(
                        "telemetry partition {0}: run {1}'s first group ({2} reading(s), {3} meter(s)) recorded {4:0.000} s and checkpointed {5:0.000} s after the run started",
                        offset.Partition, asks.Run, merged.Accepted + merged.Duplicates + merged.TooLate, merged.Meters,
                        firstRecorded.TotalSeconds, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                }
                // The end of a takeover's or a restart's backlog, README "Failover" 7 follows.
                if (catchUp.Ends(offset.Offset))
                    Logging.GetLogger(system, "SmartGrid.Pipeline").Info(
                        "telemetry partition {0}: run {1}'s backlog ({2} record(s) from offset {3}) checkpointed {4:0.000} s after the run started",
                        offset.Partition, asks.Run, catchUp.Backlog, offset.Offset - catchUp.Backlog + 1, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                return offset;
            })
            .RunWith(Committer.Sink(committer), materializer);
    }

    /// <summary>
    /// Readings a run's first group holds at most. A run starts on a fresh node, after a rebalance or a replay, with a
    /// backlog, and its first group waits for every meter in it to recover (about 500 meters/s on two loaded cores):
    /// a full group of the backlog held the first checkpoint back until thousands of meters were up (9.5 s of a 17.8 s
    /// restart with 5,000 meters). A small first group is checkpointed (and committed) once its few meters are up.
    /// </summary>
    public const int FirstGroup = 100;

    /// <summary>Groups a checkpoint covers at most.</summary>
    private const int GroupsPerCheckpoint = 10_000;

    /// <summary>
    /// Where a run's groups are cut besides the group interval and <see cref="Settings.MaxBatch"/>, and which are
    /// checkpointed as soon as they are recorded instead of at the end of the checkpoint interval: the first group, after
    /// the run's first <see cref="FirstGroup"/> readings, and the group that reaches the end of the backlog the run started
    /// behind (a restart's, a failover takeover's, a replay's, a join's), known from the partition's high watermark when
    /// the run's first reading was fetched (<see cref="CommittableMessage{TKey,TValue}.BacklogEnd"/>). That group is cut
    /// right after the backlog's last reading, so the partition is committed past its backlog as soon as the backlog is
    /// recorded, without waiting for the group interval to close a group the partition has stopped filling, nor for the
    /// checkpoint interval. At most one checkpoint more per run; readings that arrive later wait for the interval as
    /// before. A run that starts caught up cuts its first group at its first fetch's last reading.
    /// </summary>
    private sealed class CatchUp
    {
        private int _readings;
        private int _groups;
        private long _firstOffset = -1;
        private long? _backlogLast;

        /// <summary>Records from the run's first to the backlog's last, once that is reached.</summary>
        public long Backlog => _backlogLast - _firstOffset + 1 ?? 0;

        /// <summary>Called by the grouping stage for each reading, in offset order, before its group goes on.</summary>
        public bool CutAfter(CommittableMessage<string, TelemetryReading> message)
        {
            var offset = message.CommittableOffset.Offset;
            if (_firstOffset < 0) _firstOffset = offset;
            if (_backlogLast is null && message.BacklogEnd is { } end && offset >= end - 1)
            {
                // The backlog's last record, or the first after it when that one was a dead letter (never emitted). A
                // backlog shorter than the first group ends that group: no second cut in what follows.
                _backlogLast = offset;
                _readings = FirstGroup;
                return true;
            }
            return _readings < FirstGroup && ++_readings == FirstGroup;
        }

        public bool CheckpointAfter(List<CommittableMessage<string, TelemetryReading>> group) =>
            _groups++ == 0 || Ends(group[^1].CommittableOffset.Offset);

        public bool Ends(long offset) => offset == _backlogLast;
    }

    /// <summary>
    /// Groups recorded since the last checkpoint: the buckets (and their incarnations) that hold them, how many meters,
    /// and the offset they reach. A group a bucket refused (its run was replaced) has the empty incarnation, which no
    /// checkpoint matches: the run replays.
    /// </summary>
    private sealed record Recorded(CommittableOffset Offset, Dictionary<string, Guid> Buckets, int Meters, long Accepted, long Duplicates, long TooLate,
        bool CheckpointAfter = false)
    {
        public static Recorded Merge(IEnumerable<Recorded> groups)
        {
            var list = groups.ToList();
            var buckets = new Dictionary<string, Guid>();
            foreach (var group in list)
            foreach (var (bucket, incarnation) in group.Buckets)
            {
                if (buckets.TryGetValue(bucket, out var earlier) && earlier != incarnation)
                    throw new BucketRestartedException(bucket);
                buckets[bucket] = incarnation;
            }
            return new Recorded(list[^1].Offset, buckets, list.Sum(g => g.Meters), list.Sum(g => g.Accepted), list.Sum(g => g.Duplicates), list.Sum(g => g.TooLate));
        }
    }

    /// <summary>Sends each bucket its meters' share of the group, as places free up; completes once all are sent, with their answers to come.</summary>
    private static async Task<Task<Recorded>> SendRecordsAsync(List<CommittableMessage<string, TelemetryReading>> group, List<TelemetryReading> readings,
        bool checkpointAfter, Asks asks)
    {
        // Each meter's readings in offset order, the meters of a bucket in order of their first reading.
        var byMeter = new Dictionary<string, List<TelemetryReading>>();
        var byBucket = new Dictionary<string, List<MeterReadings>>();
        var messages = new List<IBucketMessage>();
        foreach (var reading in readings)
        {
            if (!byMeter.TryGetValue(reading.MeterId, out var share))
            {
                byMeter.Add(reading.MeterId, share = []);
                var bucket = MeterMessageExtractor.ShardOf(reading.MeterId);
                if (!byBucket.TryGetValue(bucket, out var meters))
                {
                    byBucket.Add(bucket, meters = []);
                    messages.Add(new RecordReadings(bucket, meters, asks.Run));
                }
                meters.Add(new MeterReadings(reading.MeterId, share));
            }
            share.Add(reading);
        }
        var answers = await asks.SendAsync(asks.Places.Records, messages);
        return RecordedAsync(group[^1].CommittableOffset, answers, byMeter.Count, checkpointAfter);
    }

    private static async Task<Recorded> RecordedAsync(CommittableOffset offset, Task<object?[]> answers, int meters, bool checkpointAfter)
    {
        var replies = await answers;
        var buckets = new Dictionary<string, Guid>(replies.Length);
        long accepted = 0, duplicates = 0, tooLate = 0;
        foreach (var reply in replies)
        {
            var recorded = (ReadingsRecorded)reply!;
            buckets.Add(recorded.BucketId, recorded.Incarnation);
            (accepted, duplicates, tooLate) = (accepted + recorded.Accepted, duplicates + recorded.Duplicates, tooLate + recorded.TooLate);
        }
        return new Recorded(offset, buckets, meters, accepted, duplicates, tooLate, checkpointAfter);
    }

    private static async Task<CommittableOffset> CheckpointAsync(Recorded recorded, Asks asks)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var messages = new List<IBucketMessage>(recorded.Buckets.Count);
        foreach (var (bucket, incarnation) in recorded.Buckets)
            messages.Add(new CheckpointReadings(bucket, incarnation));
        var replies = await await asks.SendAsync(asks.Places.Checkpoints, messages);
        foreach (var reply in replies)
            if (reply is CheckpointRefused refused) throw new BucketRestartedException(refused.BucketId);
        PipelineMetrics.PersistLatency.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        // Counted once durable, so a replay after a refused checkpoint counts nothing twice.
        PipelineMetrics.ReadingsAccepted.Add(recorded.Accepted);
        PipelineMetrics.ReadingsDuplicate.Add(recorded.Duplicates);
        PipelineMetrics.ReadingsTooLate.Add(recorded.TooLate);
        return recorded.Offset;
    }

    /// <summary>
    /// A bucket lost readings its meters had applied but not persisted (it restarted or moved, or a meter started over
    /// for a replay): its partition's run ends and the partition is read again from the last commit.
    /// </summary>
    public sealed class BucketRestartedException(string bucketId)
        : Exception($"meter bucket {bucketId} lost readings before its checkpoint; replaying from the last committed offsets");

    /// <summary>
    /// Reads a raw_readings value with the same rules as the HTTP ingestion, so a record put on
    /// the topic by any producer is held to the contract; a bad one throws, and the source
    /// sends it to the dead-letter topic with its key and the reason.
    /// </summary>
    public sealed class ReadingDeserializer(ReadingValidator validator, TimeProvider time) : IDeserializer<TelemetryReading>
    {
        public TelemetryReading Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
        {
            if (isNull) throw new InvalidDataException("null value");
            // The document only lives while the record is validated: a pooled copy of the bytes
            // (the span is librdkafka's) saves an array per record.
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(data.Length);
            try
            {
                data.CopyTo(buffer);
                using var doc = JsonDocument.Parse(buffer.AsMemory(0, data.Length));
                var result = validator.Validate(doc.RootElement, time.GetUtcNow());
                return result.Reading ?? throw new InvalidDataException(string.Join("; ", result.Errors.Select(e => $"{e.Field}: {e.Reason}")));
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
