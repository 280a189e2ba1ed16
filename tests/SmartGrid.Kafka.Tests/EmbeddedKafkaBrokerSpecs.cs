using Confluent.Kafka;

namespace SmartGrid.Kafka.Tests;

public sealed class EmbeddedKafkaBrokerSpecs
{
    [Fact]
    public async Task Should_run_standalone_publish_its_address_and_serve_the_topics_until_cancelled()
    {
        var file = Path.Combine(Path.GetTempPath(), KafkaFixture.Unique("broker"), "kafka", "bootstrap");
        using var cts = new CancellationTokenSource();
        var running = EmbeddedKafkaBroker.RunStandaloneAsync([("alpha", 2), ("beta", 5)], file, cts.Token);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.Exists(file) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        var bootstrap = (await File.ReadAllTextAsync(file)).Trim();
        Assert.StartsWith("127.0.0.1:", bootstrap);

        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
        {
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            Assert.Equal(2, metadata.Topics.Single(t => t.Topic == "alpha").Partitions.Count);
            Assert.Equal(5, metadata.Topics.Single(t => t.Topic == "beta").Partitions.Count);
        }

        await cts.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(file));
    }

    [Fact]
    public void Should_load_librdkafka_that_works_on_this_machine()
    {
        KafkaNative.EnsureLoaded();
        Assert.StartsWith("2.", Library.VersionString);
        if (OperatingSystem.IsLinux())
            Assert.EndsWith("centos8-librdkafka.so", KafkaNative.LibraryPath);
    }
}
