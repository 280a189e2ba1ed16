using System.Text.Json;
using System.Threading.Channels;
using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Gateway.OperatorConsole;

/// <summary>One record of a watched topic, as the console's event stream forwards it.</summary>
/// <param name="Kind"><c>region_window</c>, <c>alert</c> or <c>tariff</c>: the SSE event name.</param>
/// <param name="Region">The region the record is about (null when it names none: then only admins get it).</param>
/// <param name="Json">The record's value, forwarded as it was published (one read path: the same JSON the topic holds).</param>
public sealed record ConsoleEvent(string Kind, string? Region, string Json);

/// <summary>
/// Reads <c>regional_aggregates</c>, <c>alerts</c> and <c>tariff_updates</c> from their end, in a consumer group of
/// its own per gateway process (every gateway must see every record; nothing is committed, a restart starts at
/// the end again: the console reloads its state from the REST routes anyway), and hands each record to every
/// open event stream. A slow browser loses its oldest events rather than slowing the others down.
/// </summary>
public sealed class ConsoleEventFeed(string bootstrapServers, ILogger<ConsoleEventFeed> log) : BackgroundService
{
    /// <summary>Events a subscriber may fall behind by before its oldest are dropped.</summary>
    public const int SubscriberBuffer = 256;

    private static readonly (string Topic, string Kind)[] Watched =
        [(Topics.RegionalAggregates, "region_window"), (Topics.Alerts, "alert"), (Topics.TariffUpdates, "tariff")];

    private readonly Lock _gate = new();
    private readonly List<ChannelWriter<ConsoleEvent>> _subscribers = [];

    /// <summary>Events from now on, until <paramref name="ct"/> ends the subscription.</summary>
    public ChannelReader<ConsoleEvent> Subscribe(CancellationToken ct)
    {
        var channel = Channel.CreateBounded<ConsoleEvent>(new BoundedChannelOptions(SubscriberBuffer)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true,
        });
        lock (_gate) _subscribers.Add(channel.Writer);
        ct.Register(() =>
        {
            lock (_gate) _subscribers.Remove(channel.Writer);
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    /// <summary>Subscribers now, for the specs and the metrics.</summary>
    public int Subscribers
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    /// <summary>Set once the consumer holds its partitions: events published after this reach the streams.</summary>
    public Task Assigned => _assigned.Task;

    private readonly TaskCompletionSource _assigned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        // Confluent's Consume blocks a thread: give it one of its own rather than a pool thread.
        Task.Factory.StartNew(() => Consume(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Consume(CancellationToken ct)
    {
        KafkaNative.EnsureLoaded();
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"console-{Environment.MachineName}-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Latest,
            EnableAutoCommit = false,
            // A new window is on screen within 2 s: the fetch must not wait for a full batch.
            FetchWaitMaxMs = 100,
        }).SetPartitionsAssignedHandler((_, partitions) =>
        {
            log.ConsoleFeedAssigned(partitions.Count);
            _assigned.TrySetResult();
        }).Build();
        consumer.Subscribe(Watched.Select(w => w.Topic));
        try
        {
            while (!ct.IsCancellationRequested)
            {
                ConsumeResult<Ignore, string>? record;
                try
                {
                    record = consumer.Consume(ct);
                }
                catch (ConsumeException e)
                {
                    // A topic not created yet, a broker restarting: the next poll tries again.
                    log.ConsoleFeedConsumeFailed(e, e.Error.Reason);
                    continue;
                }
                if (record?.Message?.Value is not { } json)
                    continue;
                var kind = Watched.First(w => w.Topic == record.Topic).Kind;
                Publish(new ConsoleEvent(kind, RegionOf(json), json));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            consumer.Close();
        }
    }

    private void Publish(ConsoleEvent e)
    {
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
                subscriber.TryWrite(e);
        }
    }

    private static string? RegionOf(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            // Windows and prices name it at the top, alert events in their alert.
            return Region(root) ?? (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("alert", out var alert) ? Region(alert) : null);
        }
        catch (JsonException)
        {
            return null;
        }

        static string? Region(JsonElement e) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("region", out var region) && region.ValueKind == JsonValueKind.String
                ? region.GetString()
                : null;
    }
}
