using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;

namespace SmartGrid.Kafka.Tests;

/// <summary>
/// <see cref="MeterPartition"/> against librdkafka itself: the partition our producers' settings put each key in, read
/// from the broker's delivery reports, and the Java client's murmur2 on the values its own unit spec checks.
/// </summary>
[Collection(KafkaCollection.Name)]
public sealed class MeterPartitionSpecs(KafkaFixture kafka)
{
    [Theory]
    [InlineData(6)]
    [InlineData(7)]
    public void Should_name_the_partition_our_producers_deliver_each_meter_to(int partitions)
    {
        var topic = kafka.CreateTopic("meter-partition", partitions);
        // The fleet's ids, and keys of every tail length and beyond ASCII (UTF-8 bytes are hashed, not chars).
        var keys = Enumerable.Range(0, 3_000).Select(n => $"MTR-{n:D8}")
            .Concat(Enumerable.Range(0, 200).Select(n => new string('k', n % 9) + n))
            .Concat(["é", "Zähler-1", "電表-42", "x"])
            .ToList();
        var delivered = new ConcurrentDictionary<string, int>();
        var errors = new ConcurrentQueue<Error>();
        // The settings every producer of raw_readings uses, not a hand-made config: they must pin the partitioner.
        using (var producer = ProducerSettings.ForStrings(kafka.BootstrapServers).CreateProducer())
        {
            foreach (var key in keys)
                producer.Produce(topic, new Message<string, string> { Key = key, Value = "v" }, r =>
                {
                    if (r.Error.IsError) errors.Enqueue(r.Error);
                    else delivered[r.Message.Key] = r.Partition.Value;
                });
            producer.Flush(TimeSpan.FromSeconds(30));
        }

        Assert.Empty(errors);
        Assert.Equal(keys.Count, delivered.Count);
        var wrong = keys.Where(k => delivered[k] != MeterPartition.Of(k, partitions)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} key(s) delivered elsewhere, e.g. {string.Join(", ", wrong.Take(5).Select(k => $"{k} to {delivered[k]}, computed {MeterPartition.Of(k, partitions)}"))}");
        // Every partition takes meters: the hash spreads them.
        Assert.Equal(partitions, delivered.Values.Distinct().Count());
    }

    [Theory]
    // Apache Kafka's UtilsTest.testMurmur2: the Java client's values, as signed ints.
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Should_hash_as_the_java_client_does(string key, int java)
    {
        Assert.Equal(java, unchecked((int)MeterPartition.Murmur2(Encoding.UTF8.GetBytes(key))));
        Assert.Equal(java & 0x7fffffff, MeterPartition.PositiveHash(key));
    }
}
