using Akka;
using Akka.Streams.Dsl;

namespace SmartGrid.Kafka;

/// <summary>Batched, asynchronous offset commits (see <see cref="CommitterSettings"/>).</summary>
public static class Committer
{
    /// <summary>Commits offsets in batches and emits each batch once committed.</summary>
    public static Flow<CommittableOffset, CommittableOffsetBatch, NotUsed> Flow(CommitterSettings? settings = null) =>
        Akka.Streams.Dsl.Flow.FromGraph(new CommitterStage(settings ?? CommitterSettings.Default));

    /// <summary>Commits offsets in batches; the task completes after the last commit (or fails with it).</summary>
    public static Sink<CommittableOffset, Task<Done>> Sink(CommitterSettings? settings = null) =>
        Flow(settings).ToMaterialized(Akka.Streams.Dsl.Sink.Ignore<CommittableOffsetBatch>(), Keep.Right);
}
