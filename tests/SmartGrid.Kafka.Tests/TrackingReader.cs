using System.Collections.Concurrent;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Confluent.Kafka;

namespace SmartGrid.Kafka.Tests;

/// <summary>
/// Reads every partition sub-source of a consumer and commits what it read, recording which partitions it holds, how
/// often each partition's sub-stream started (once, if nothing took it away meanwhile) and every record it saw.
/// </summary>
internal sealed class TrackingReader
{
    public readonly ConcurrentDictionary<int, byte> Active = new();
    public readonly ConcurrentDictionary<int, int> Starts = new();
    public readonly ConcurrentQueue<(int Partition, long Offset, string Value)> Seen = new();
    public IControl Control = null!;
    public Task<Done> Done = null!;
    public string Assigned => string.Join(",", Active.Keys.Order());

    /// <param name="gate">Every message waits for it before it counts as seen: a downstream that does not move until it completes.</param>
    public static TrackingReader Run(Source<(TopicPartition Partition, Source<CommittableMessage<string, string>, NotUsed> Messages), IControl> source,
        IMaterializer materializer, Task? gate = null)
    {
        var reader = new TrackingReader();
        var (control, done) = source
            .MergePartitions(16, (tp, messages) =>
            {
                var partition = tp.Partition.Value;
                reader.Active[partition] = 0;
                reader.Starts.AddOrUpdate(partition, 1, (_, n) => n + 1);
                return messages
                    .SelectAsync(1, async m =>
                    {
                        if (gate is not null)
                            await gate;
                        reader.Seen.Enqueue((partition, m.Record.Offset.Value, m.Record.Message.Value));
                        return m.CommittableOffset;
                    })
                    .WatchTermination((mat, terminated) =>
                    {
                        terminated.ContinueWith(_ => reader.Active.TryRemove(partition, out var _));
                        return mat;
                    });
            })
            .ToMaterialized(Committer.Sink(new CommitterSettings { MaxInterval = TimeSpan.FromMilliseconds(50) }), Keep.Both)
            .Run(materializer);
        reader.Control = control;
        reader.Done = done;
        return reader;
    }
}
