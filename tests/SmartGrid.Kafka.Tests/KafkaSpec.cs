using Akka.Configuration;
using Akka.Streams;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

/// <summary>Base for specs that run streams against the shared embedded broker.</summary>
[Collection(KafkaCollection.Name)]
public abstract class KafkaSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config SpecConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = INFO
        akka.stdout-loglevel = WARNING
        """);

    protected KafkaSpec(KafkaFixture kafka, ITestOutputHelper output) : base(SpecConfig, output: output)
    {
        Kafka = kafka;
        Materializer = Sys.Materializer();
    }

    protected KafkaFixture Kafka { get; }
    protected IMaterializer Materializer { get; }

    /// <summary>Settings tuned for quick group joins and rebalances on the mock cluster.</summary>
    protected ConsumerSettings<string, string> StringConsumer(string groupId) =>
        ConsumerSettings.ForStrings(Kafka.BootstrapServers, groupId)
            .WithProperty("heartbeat.interval.ms", "500")
            .WithProperty("session.timeout.ms", "6000");

    protected static async Task<T> Within<T>(Task<T> task, int seconds, string what)
    {
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds)));
        if (finished != task)
            throw new TimeoutException($"{what} did not finish within {seconds} s");
        return await task;
    }

    protected static async Task Within(Task task, int seconds, string what)
    {
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds)));
        if (finished != task)
            throw new TimeoutException($"{what} did not finish within {seconds} s");
        await task;
    }

    protected static Task Eventually(Func<bool> condition, int seconds, string what) => Eventually(condition, seconds, () => what);

    /// <summary><paramref name="what"/> is described when the time is up, so it can show the state at that moment.</summary>
    protected static async Task Eventually(Func<bool> condition, int seconds, Func<string> what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what()} did not happen within {seconds} s");
            await Task.Delay(50);
        }
    }
}
