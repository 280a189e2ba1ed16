using System.Diagnostics;
using Xunit.Abstractions;

namespace SmartGrid.Kafka.Tests;

/// <summary>The embedded broker speaks real Kafka: an independent client (kcat, a librdkafka CLI) sees our topics and records.</summary>
public sealed class KcatSpecs(KafkaFixture kafka, ITestOutputHelper output) : KafkaSpec(kafka, output)
{
    [Fact]
    public async Task Should_show_topics_partitions_and_keyed_records_to_kcat()
    {
        var kcat = FindKcat();
        var topic = Kafka.CreateTopic("kcat", 3);
        var keys = Enumerable.Range(0, 12).Select(i => $"meter-{i:D3}").ToList();
        Kafka.Produce(topic, keys.Select((k, i) => (k, $"{{\"reading\":{i}}}", (int?)(i % 3))));

        var metadata = await Run(kcat, "-b", Kafka.BootstrapServers, "-L", "-t", topic);
        Assert.Contains($"topic \"{topic}\" with 3 partitions", metadata);
        for (var p = 0; p < 3; p++)
            Assert.Contains($"partition {p},", metadata);

        var consumed = await Run(kcat, "-b", Kafka.BootstrapServers, "-C", "-t", topic, "-o", "beginning",
            "-c", keys.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-e", "-q", "-f", "%k\\n");
        var seenKeys = consumed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(keys, seenKeys.Order());
    }

    private static string FindKcat()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin")
            .Split(Path.PathSeparator)
            .Append("/usr/bin")
            .Select(dir => Path.Combine(dir, "kcat"))
            .FirstOrDefault(File.Exists);
        return path ?? throw new Xunit.Sdk.XunitException(
            "kcat is not installed: the kcat test needs it (Debian: apt-get install -y kcat; the project's setup script installs it)");
    }

    private async Task<string> Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("kcat did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kcat {string.Join(' ', args)} did not finish in 20 s");
        }
        var output = await stdout;
        Output?.WriteLine($"kcat {string.Join(' ', args)} -> exit {process.ExitCode}\n{output}{await stderr}");
        Assert.True(process.ExitCode == 0, $"kcat {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}");
        return output;
    }
}
