using System.Collections.Concurrent;
using Akka.Streams.Dsl;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

public sealed class CommitSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_resume_exactly_at_the_committed_offsets_after_a_restart()
    {
        const int partitions = 2, perPartition = 100, firstRun = 70;
        var topic = Kafka.CreateTopic("restart", partitions);
        Kafka.Produce(topic, Enumerable.Range(0, perPartition)
            .SelectMany(i => Enumerable.Range(0, partitions).Select(p => ($"k{p}", $"{p}:{i}", (int?)p))));
        var group = KafkaFixture.Unique("restart");

        // First run: process and commit exactly 70 messages, then leave the group.
        var first = new ConcurrentQueue<(int Partition, long Offset)>();
        var (control, done) = KafkaConsumer.CommittableSource(StringConsumer(group), topic)
            .Take(firstRun)
            .Select(m =>
            {
                first.Enqueue((m.Record.Partition.Value, m.Record.Offset.Value));
                return m.CommittableOffset;
            })
            .ToMaterialized(Committer.Sink(), Keep.Both)
            .Run(Materializer);
        await Within(done, 20, "first run");
        await Within(control.Shutdown(), 10, "first shutdown");

        var committed = Kafka.Committed(group, topic, partitions);
        foreach (var p in Enumerable.Range(0, partitions))
        {
            var mine = first.Where(f => f.Partition == p).Select(f => f.Offset).ToList();
            // Offsets are committed as "next to read": last processed + 1 (or nothing if none was processed).
            Assert.Equal(mine.Count == 0 ? -1001 : mine.Max() + 1, committed[p]);
        }

        // Second run with the same group: it starts exactly at the committed offsets and reads the rest once.
        var remaining = partitions * perPartition - firstRun;
        var second = new ConcurrentQueue<(int Partition, long Offset)>();
        var (control2, done2) = KafkaConsumer.CommittableSource(StringConsumer(group), topic)
            .Take(remaining)
            .Select(m =>
            {
                second.Enqueue((m.Record.Partition.Value, m.Record.Offset.Value));
                return m.CommittableOffset;
            })
            .ToMaterialized(Committer.Sink(), Keep.Both)
            .Run(Materializer);
        await Within(done2, 20, "second run");
        await Within(control2.Shutdown(), 10, "second shutdown");

        foreach (var p in Enumerable.Range(0, partitions))
        {
            var resumed = second.Where(s => s.Partition == p).Select(s => s.Offset).ToList();
            var start = committed[p] < 0 ? 0 : committed[p];
            Assert.Equal(Enumerable.Range((int)start, perPartition - (int)start).Select(i => (long)i), resumed);
        }
        Assert.All(Kafka.Committed(group, topic, partitions).Values, c => Assert.Equal(perPartition, c));
    }

    [Fact]
    public async Task Should_batch_commits_and_complete_only_after_the_last_commit()
    {
        var topic = Kafka.CreateTopic("batch", 1);
        Kafka.Produce(topic, Enumerable.Range(0, 500).Select(i => ($"k{i}", $"{i}", (int?)0)));
        var group = KafkaFixture.Unique("batch");

        var (control, batches) = KafkaConsumer.CommittableSource(StringConsumer(group), topic)
            .Take(500)
            .Select(m => m.CommittableOffset)
            .Via(Committer.Flow(new CommitterSettings { MaxBatch = 100, MaxInterval = TimeSpan.FromSeconds(5) }))
            .ToMaterialized(Sink.Seq<CommittableOffsetBatch>(), Keep.Both)
            .Run(Materializer);
        var committed = await Within(batches, 20, "committing");
        await control.Shutdown();

        // Folded offsets add up, each batch holds one offset per partition, and the last one is the highest.
        Assert.Equal(500, committed.Sum(b => b.Folded));
        Assert.All(committed, b => Assert.Single(b.Offsets));
        Assert.True(committed.Count >= 5, $"expected at least 5 batches of <= 100, got {committed.Count}");
        Assert.Equal(499, committed[^1].Offsets[0].Offset);
        Assert.Equal(500, Kafka.Committed(group, topic, 1)[0]);
    }

    [Fact]
    public async Task Should_keep_committing_after_stop_until_shutdown()
    {
        var topic = Kafka.CreateTopic("stop", 1);
        Kafka.Produce(topic, Enumerable.Range(0, 50).Select(i => ($"k{i}", $"{i}", (int?)0)));
        var group = KafkaFixture.Unique("stop");

        var seen = new ConcurrentQueue<CommittableOffset>();
        var (control, done) = KafkaConsumer.CommittableSource(StringConsumer(group), topic)
            .Select(m =>
            {
                seen.Enqueue(m.CommittableOffset);
                return m;
            })
            .ToMaterialized(Sink.Ignore<CommittableMessage<string, string>>(), Keep.Both)
            .Run(Materializer);
        await Eventually(() => seen.Count == 50, 20, "consuming");

        // Stop completes the stream but keeps the consumer in the group, so processed offsets can still be committed.
        await Within(control.Stop(), 10, "stop");
        await Within(done, 10, "stream completion");
        await Within(seen.Last().CommitAsync(), 10, "commit after stop");
        Assert.Equal(50, Kafka.Committed(group, topic, 1)[0]);
        Assert.False(control.IsShutdown.IsCompleted);

        await Within(control.Shutdown(), 10, "shutdown");
        await Assert.ThrowsAsync<InvalidOperationException>(() => seen.First().CommitAsync());
    }
}
