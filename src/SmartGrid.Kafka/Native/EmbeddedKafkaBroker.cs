using System.Runtime.InteropServices;
using static SmartGrid.Kafka.MockClusterNative;

namespace SmartGrid.Kafka;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock cluster, reached over the real Kafka protocol on
/// random 127.0.0.1 ports by any client in this or another process (Confluent.Kafka, kcat).
/// Metadata, produce, fetch, consumer groups (rebalances take 4-5 s), committed offsets and the
/// idempotent producer work; AdminClient.CreateTopics, ListConsumerGroups and transactions do not,
/// so topics are created here with <see cref="CreateTopic"/> (a metadata request for an unknown
/// topic auto-creates it with 4 partitions: create every topic first).
/// <para>
/// Retention is fixed by the mock at 5 MiB or 100,000 batches per partition, whichever comes first,
/// and the oldest data is dropped silently past that: produce with compression.type=zstd and keep
/// consumers caught up. Everything lives in memory and is gone when the broker is disposed.
/// </para>
/// </summary>
public sealed class EmbeddedKafkaBroker : IDisposable
{
    private readonly object _gate = new();
    private readonly int _brokers;
    private IntPtr _rk;
    private IntPtr _cluster;

    private EmbeddedKafkaBroker(IntPtr rk, IntPtr cluster, int brokers, string bootstrapServers)
    {
        _rk = rk;
        _cluster = cluster;
        _brokers = brokers;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>Comma-separated host:port list for <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokers"/> brokers and creates the given topics.</summary>
    public static EmbeddedKafkaBroker Start(IEnumerable<(string Name, int Partitions)> topics, int brokers = 1)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        KafkaNative.EnsureLoaded();

        var errstr = new byte[512];
        var conf = rd_kafka_conf_new();
        Set(conf, "client.id", "smartgrid-embedded-broker");
        Set(conf, "log_level", "3");
        var rk = rd_kafka_new(ProducerType, conf, errstr, (nuint)errstr.Length);
        if (rk == IntPtr.Zero)
        {
            rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException($"rd_kafka_new failed: {ErrorText(errstr)}");
        }

        var cluster = rd_kafka_mock_cluster_new(rk, brokers);
        if (cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }

        // The mock waits 3 s before the first rebalance of a new group by default.
        rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0);
        var bootstraps = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(cluster))
                         ?? throw new InvalidOperationException("mock cluster has no bootstrap servers");
        var broker = new EmbeddedKafkaBroker(rk, cluster, brokers, bootstraps);
        try
        {
            foreach (var (name, partitions) in topics)
                broker.CreateTopic(name, partitions);
        }
        catch
        {
            broker.Dispose();
            throw;
        }
        return broker;

        static void Set(IntPtr conf, string name, string value)
        {
            var err = new byte[512];
            if (rd_kafka_conf_set(conf, name, value, err, (nuint)err.Length) != ConfOk)
                throw new InvalidOperationException($"rd_kafka_conf_set {name}: {ErrorText(err)}");
        }
    }

    /// <summary>Creates a topic (replication factor = min(brokers, 3)); an existing topic is left as it is.</summary>
    public void CreateTopic(string name, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var err = rd_kafka_mock_topic_create(_cluster, name, partitions, Math.Min(_brokers, 3));
            if (err != 0 && err != ErrTopicAlreadyExists)
                throw new InvalidOperationException(
                    $"Creating topic '{name}' failed: {Marshal.PtrToStringUTF8(rd_kafka_err2str(err))} ({err})");
        }
    }

    /// <summary>
    /// Deletes a topic and creates it again, empty: its records and its consumer groups' committed
    /// offsets are gone and offsets start again at 0, as after a broker that restarted without its log.
    /// </summary>
    public void LoseTopic(string name, int partitions)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var err = rd_kafka_mock_topic_delete(_cluster, name);
            if (err != 0)
                throw new InvalidOperationException($"Deleting topic '{name}' failed: {Marshal.PtrToStringUTF8(rd_kafka_err2str(err))} ({err})");
        }
        CreateTopic(name, partitions);
    }

    /// <summary>
    /// Runs a broker until <paramref name="cancellationToken"/> fires: creates the topics, writes the
    /// bootstrap servers to <paramref name="bootstrapFile"/> (creating its directory) and prints them.
    /// The file is removed on exit so a stale address is never picked up.
    /// </summary>
    public static async Task RunStandaloneAsync(
        IEnumerable<(string Name, int Partitions)> topics, string bootstrapFile, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapFile);
        using var broker = Start(topics);
        var fullPath = Path.GetFullPath(bootstrapFile);
        var directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        // Write then rename, so a reader never sees a half-written file.
        var temporary = fullPath + ".tmp";
        await File.WriteAllTextAsync(temporary, broker.BootstrapServers + Environment.NewLine, CancellationToken.None);
        File.Move(temporary, fullPath, overwrite: true);
        Console.WriteLine($"Embedded Kafka broker listening on {broker.BootstrapServers} (written to {fullPath})");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            try { File.Delete(fullPath); } catch (IOException) { }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != IntPtr.Zero)
            {
                rd_kafka_mock_cluster_destroy(_cluster);
                _cluster = IntPtr.Zero;
            }
            if (_rk != IntPtr.Zero)
            {
                rd_kafka_destroy(_rk);
                _rk = IntPtr.Zero;
            }
        }
    }
}
