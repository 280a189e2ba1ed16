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
/// a processor starts, and when another processor is removed, this asks every meter that wrote to
/// the journal within the horizon (idle close, a checkpoint and a margin) before the journal's
/// newest write: the ask starts it on its shard's node, its recovery arms the idle close, and it
/// passivates afterwards. A few asks at a time, behind the readings: recovery stays lazy and
/// bounded, and meters that still report are started by their readings anyway.
/// </summary>
public sealed class MeterWake(IActorRef meters, JournalRecency journal, TimeSpan horizon, ILoggingAdapter log)
{
    public const int Parallelism = 8;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    public static MeterWake Start(IActorRef meters, JournalRecency journal, PipelineSettings pipeline, MemberRemovals removals, ILoggingAdapter log)
    {
        var wake = new MeterWake(meters, journal, pipeline.IdleClose + pipeline.CheckpointInterval + pipeline.MaxBatchInterval + TimeSpan.FromMinutes(1), log);
        removals.Removed += () => _ = wake.SweepAsync("a processor was removed");
        _ = wake.SweepAsync("the node started");
        return wake;
    }

    /// <summary>Returns how many meters answered; failures are logged, never thrown (the next removal or start sweeps again).</summary>
    public async Task<int> SweepAsync(string why)
    {
        try
        {
            var ids = await journal.WrittenBeforeNewestAsync(MeterActor.PersistenceIdPrefix, horizon);
            var answered = 0;
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (id, ct) =>
            {
                var meter = id[MeterActor.PersistenceIdPrefix.Length..];
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
            log.Info("meter wake ({0}): {1} of {2} meter(s) that wrote within {3} of the journal's newest write are up", why, answered, ids.Count, horizon);
            return answered;
        }
        catch (Exception e)
        {
            log.Error(e, "meter wake ({0}) failed", why);
            return 0;
        }
    }
}
