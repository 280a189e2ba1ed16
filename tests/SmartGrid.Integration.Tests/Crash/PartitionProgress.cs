using System.Diagnostics;
using Confluent.Kafka;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Crash;

/// <summary>
/// Watches, from the instant of a kill, the processors' committed offsets on every raw_readings partition: a
/// partition counts as processed again once its committed offset passes where it stood at the kill. An offset is
/// committed only after the readings before it are recorded by their meters (at the next checkpoint), so the time
/// includes up to one checkpoint interval. The watcher reads offsets without joining the group.
/// </summary>
internal sealed class PartitionProgress : IAsyncDisposable
{
    private readonly IConsumer<Ignore, Ignore> _reader;
    private readonly List<TopicPartition> _partitions;
    private readonly Dictionary<int, long> _atKill;
    private readonly Dictionary<int, TimeSpan> _resumed = new();
    private readonly Stopwatch _sinceKill;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    private PartitionProgress(IConsumer<Ignore, Ignore> reader, List<TopicPartition> partitions, Dictionary<int, long> atKill, Stopwatch sinceKill)
    {
        _reader = reader;
        _partitions = partitions;
        _atKill = atKill;
        _sinceKill = sinceKill;
        _watching = Task.Run(WatchAsync);
    }

    /// <summary>Call right after the kill; <paramref name="sinceKill"/> is the clock started at the kill.</summary>
    public static PartitionProgress Start(string bootstrapServers, Stopwatch sinceKill)
    {
        var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers, GroupId = TelemetryConsumer.GroupId, EnableAutoCommit = false,
        }).Build();
        var count = Topics.RawReadings.Partitions;
        var partitions = Enumerable.Range(0, count).Select(p => new TopicPartition(Topics.RawReadings, p)).ToList();
        var atKill = reader.Committed(partitions, TimeSpan.FromSeconds(10)).ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
        return new PartitionProgress(reader, partitions, atKill, sinceKill);
    }

    /// <summary>How long after the kill each partition's committed offset first moved, by partition.</summary>
    public IReadOnlyDictionary<int, TimeSpan> Resumed
    {
        get { lock (_resumed) return new Dictionary<int, TimeSpan>(_resumed); }
    }

    /// <summary>Waits until every partition has been processed past the kill point; the time of the last one.</summary>
    public async Task<TimeSpan> AllResumedAsync(TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            var resumed = Resumed;
            if (resumed.Count == _partitions.Count)
                return resumed.Values.Max();
            await Task.Delay(100);
        }
        var stuck = _partitions.Select(p => p.Partition.Value).Where(p => !Resumed.ContainsKey(p));
        throw new TimeoutException($"raw_readings partitions {string.Join(", ", stuck)} were not processed within {deadline} of the kill");
    }

    private async Task WatchAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var offsets = _reader.Committed(_partitions, TimeSpan.FromSeconds(5));
                var now = _sinceKill.Elapsed;
                foreach (var committed in offsets)
                {
                    lock (_resumed)
                    {
                        if (committed.Offset.Value > _atKill[committed.Partition.Value])
                            _resumed.TryAdd(committed.Partition.Value, now);
                    }
                }
            }
            catch (KafkaException)
            {
                // The coordinator may be busy with the rebalance the kill caused: ask again.
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        _reader.Dispose();
        _stop.Dispose();
    }
}
