using Akka.Actor;
using Akka.Event;
using SmartGrid.Actors.Hosting;
using SmartGrid.Storage;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// Meters are not remembered entities (Akka.NET issue #7447: a million remembered entities storm on
/// recovery): a meter starts when a message reaches it. One promise needs more than that: a meter
/// that falls silent closes its windows after <c>IdleClose</c>, and if its node dies first, the
/// windows it persisted but never published would wait for a reading that may never come. So when
/// a processor starts, and when another processor is removed, this notes the journal's newest write
/// (the moment the dead node stopped writing, near enough), lets the telemetry stream run for
/// <c>settle</c>, and then asks only the meters that wrote within the horizon (idle close, a checkpoint
/// and a margin) before that moment and have not written since: a meter the stream reached again is
/// alive and left out. The ask starts the meter on its shard's node, its recovery arms the idle close,
/// and it passivates afterwards. A few asks at a time, after the restart's first groups and behind the
/// readings: at a million meters, waking every recent writer at once competed with the stream's own
/// meters for recovery exactly when a restart needs them.
/// </summary>
public sealed class MeterWake(IActorRef meters, JournalRecency journal, TimeSpan horizon, TimeSpan settle, ILoggingAdapter log)
{
    public const int Parallelism = 8;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    public static MeterWake Start(IActorRef meters, JournalRecency journal, PipelineSettings pipeline, MemberRemovals removals, ILoggingAdapter log)
    {
        // Settled once a meter the stream still feeds has had its readings grouped and checkpointed, and a silent one would
        // have closed its windows had its node lived: the windows of the meters woken then come at most that much later.
        var settle = pipeline.IdleClose + pipeline.CheckpointInterval + pipeline.MaxBatchInterval;
        var wake = new MeterWake(meters, journal, settle + TimeSpan.FromMinutes(1), settle, log);
        removals.Removed += () => _ = wake.SweepAsync("a processor was removed");
        _ = wake.SweepAsync("the node started");
        return wake;
    }

    /// <summary>Returns how many meters answered; failures are logged, never thrown (the next removal or start sweeps again).</summary>
    public async Task<int> SweepAsync(string why)
    {
        try
        {
            if (await journal.NewestWriteAsync(MeterBucket.PersistenceIdPrefix) is not { } moment) return 0;
            await Task.Delay(settle);
            var ids = await journal.SilentSinceAsync(MeterBucket.PersistenceIdPrefix, moment, horizon);
            var answered = 0;
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (id, ct) =>
            {
                var meter = id[MeterBucket.PersistenceIdPrefix.Length..];
                try
                {
                    await meters.Ask<MeterStatus>(new GetMeterStatus(meter), AskTimeout, ct);
                    Interlocked.Increment(ref answered);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
                {
                    log.Warning("meter wake: {0} did not answer: {1}", meter, e.Message);
                }
            });
            log.Info("meter wake ({0}): {1} of {2} meter(s) that wrote within {3} before the journal's newest write and not in the {4} since are up",
                why, answered, ids.Count, horizon, settle);
            return answered;
        }
        catch (Exception e)
        {
            log.Error(e, "meter wake ({0}) failed", why);
            return 0;
        }
    }
}
