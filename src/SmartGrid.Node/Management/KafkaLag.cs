using Confluent.Kafka;
using Confluent.Kafka.Admin;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Contracts.Management;
using SmartGrid.Contracts;
using SmartGrid.Kafka;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Notifications;

namespace SmartGrid.Node.Management;

/// <summary>
/// <c>kafka lag</c>: for each consumer group of the platform and each partition of its topics, the
/// group's committed offset (AdminClient ListConsumerGroupOffsets) against the partition's high
/// watermark, on the node's own bootstrap servers. Read-only: never joins a group.
/// </summary>
public sealed class KafkaLag(KafkaEndpoint kafka, GridServicesOptions services, NotificationSettings notifications)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The seed's consumer groups and the topics each reads, taken from the settings the node runs with.</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Topics)> Groups()
    {
        return
        [
            (TelemetryConsumer.GroupId, [Domain.Telemetry.Topics.RawReadings]),
            (PipelineHosting.ArchiveGroupId, [Domain.Telemetry.Topics.RawReadings]),
            (services.Tariffs.Consumer.GroupId, services.Tariffs.Consumer.Topics),
            (services.Alerts.Consumer.GroupId, services.Alerts.Consumer.Topics),
            (notifications.Consumer.GroupId, notifications.Consumer.Topics),
        ];
    }

    public Task<CommandOutput> LagAsync(CancellationToken ct) => Task.Run(async () =>
    {
        KafkaNative.EnsureLoaded();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(Timeout);
        }
        catch (KafkaException e)
        {
            throw CommandException.Unavailable($"Kafka at {kafka.BootstrapServers}: {e.Message}");
        }
        using var watermarks = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers, GroupId = "smartgrid-cmd-watermarks", EnableAutoCommit = false,
        }).Build();

        var table = new TableBuilder("consumer lag", "group", "topic", "partition", "committed", "end", "lag");
        var totals = new List<string>();
        foreach (var (group, topics) in Groups())
        {
            var partitions = metadata.Topics.Where(t => topics.Contains(t.Topic))
                .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))
                .OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList();
            if (partitions.Count == 0) continue;
            var committed = (await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)],
                    new ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout }))
                .Single().Partitions.ToDictionary(p => p.TopicPartition, p => p.Offset);
            long groupLag = 0;
            foreach (var tp in partitions)
            {
                ct.ThrowIfCancellationRequested();
                var marks = watermarks.QueryWatermarkOffsets(tp, Timeout);
                var offset = committed.GetValueOrDefault(tp, Offset.Unset);
                // Nothing committed yet: everything still in the log is ahead of the group.
                var lag = Math.Max(0, marks.High.Value - (offset.IsSpecial ? marks.Low.Value : offset.Value));
                groupLag += lag;
                table.Row(group, tp.Topic, tp.Partition.Value, offset.IsSpecial ? "none" : offset.Value, marks.High.Value, lag);
            }
            totals.Add($"{group} {groupLag}");
        }
        return CommandOutput.Of(table.Build()).With($"total lag per group: {string.Join(", ", totals)}");
    }, ct);
}
