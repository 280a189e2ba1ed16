using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Ingestion;
using static SmartGrid.Integration.Tests.Ingestion.TestReadings;

namespace SmartGrid.Integration.Tests.Ingestion;

/// <summary>
/// What an acknowledgement promises, against the real PostgreSQL and real embedded brokers: a 200
/// means the batch is a committed ledger row; the pump takes it to Kafka, keeps it until the processor
/// group committed past it, publishes it again when the broker loses it, and holds rows back (never
/// drops them) while the broker's backlog is at its budget. Each spec uses its own ledger owner and
/// meter range (MTR-1100xxxx).
/// </summary>
[Collection(IngestionCollection.Name)]
public sealed class IngestLedgerSpecs(IngestionFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly int Partitions = Topics.RawReadings.Partitions;

    [Fact]
    public async Task Should_acknowledge_a_batch_once_it_is_in_the_ledger_even_while_kafka_is_unreachable()
    {
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, bootstrapServers: $"127.0.0.1:{ClosedPort()}");
        var meters = MeterIds(11_000_001, 3);

        using var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m)))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((1, 3), await LedgerOfAsync(host.LedgerOwner));
        Assert.Equal(3, host.Backlog.Readings);
    }

    [Fact]
    public async Task Should_publish_a_previous_runs_rows_again_when_its_owner_starts()
    {
        var owner = "ingest-spec-restart-" + Guid.NewGuid().ToString("N")[..8];
        var meters = MeterIds(11_000_101, 4);
        // The first run acknowledges while its broker is gone, then stops without having published.
        await using (var first = await fixture.StartHostAsync(IngestionFixture.Provisioning with { LedgerOwner = owner }, bootstrapServers: $"127.0.0.1:{ClosedPort()}"))
        {
            using var response = await first.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m)))));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Empty(fixture.ReadTopic(meters.ToHashSet()));

        await using var second = await fixture.StartHostAsync(IngestionFixture.Provisioning with { LedgerOwner = owner });

        await EventuallyAsync(() => Task.FromResult(fixture.ReadTopic(meters.ToHashSet()).Count == meters.Length), "the adopted row published");
        Assert.Equal(meters, fixture.ReadTopic(meters.ToHashSet()).Select(r => r.Message.Key).Order());
        Assert.Equal((1, 4), await LedgerOfAsync(owner)); // published, not consumed: still owed
    }

    [Fact]
    public async Task Should_delete_a_row_only_once_the_processor_group_committed_past_all_of_it()
    {
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, bootstrapServers: broker.BootstrapServers);
        var meters = MeterIds(11_000_201, 12);

        using var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m)))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await host.Pump.WaitPublishedAsync(Patience);
        var records = fixture.ReadTopic(meters.ToHashSet(), bootstrapServers: broker.BootstrapServers);
        Assert.Equal(12, records.Count);

        // Committed up to, not past, the last record of one partition: the row is still owed.
        var last = records.GroupBy(r => r.Partition.Value).Select(g => g.MaxBy(r => r.Offset.Value)!).ToList();
        CommitAsProcessor(broker, last.Select((r, i) => new TopicPartitionOffset(r.TopicPartition, i == 0 ? r.Offset.Value : r.Offset.Value + 1)));
        await Task.Delay(3 * new IngestionOptions().LedgerProbeInterval);
        Assert.Equal((1, 12), await LedgerOfAsync(host.LedgerOwner));

        CommitAsProcessor(broker, last.Select(r => new TopicPartitionOffset(r.TopicPartition, r.Offset.Value + 1)));
        await EventuallyAsync(async () => await LedgerOfAsync(host.LedgerOwner) == (0, 0), "the consumed row deleted");
        // The in-memory backlog gauge is set apart from the delete (LedgerBacklog): it follows a moment later.
        await EventuallyAsync(() => Task.FromResult((host.Backlog.Rows, host.Backlog.Readings) == (0, 0)), "the backlog gauge at zero");
    }

    [Fact]
    public async Task Should_publish_again_what_the_broker_lost_before_the_processor_consumed_it()
    {
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, bootstrapServers: broker.BootstrapServers);
        var before = MeterIds(11_000_301, 30);
        var after = MeterIds(11_000_401, 30);
        var all = before.Concat(after).ToHashSet();

        using (var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(before.Select(m => Valid(m, 120))))))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await host.Pump.WaitPublishedAsync(Patience);
        Assert.Equal(30, fixture.ReadTopic(all, bootstrapServers: broker.BootstrapServers).Count);

        // The broker restarts without its log, and nothing else is sent: the pump notices on its own.
        broker.LoseTopic(Topics.RawReadings, Partitions);
        Assert.Empty(fixture.ReadTopic(all, bootstrapServers: broker.BootstrapServers, waitForLedger: false));
        await EventuallyAsync(() => Task.FromResult(fixture.ReadTopic(all, bootstrapServers: broker.BootstrapServers, waitForLedger: false).Count == 30),
            "the lost readings published again");

        using (var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(after.Select(m => Valid(m, 60))))))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var records = fixture.ReadTopic(all, bootstrapServers: broker.BootstrapServers);
        Assert.Equal(all.Order(), records.Select(r => r.Message.Key).Order()); // each once
        Assert.Equal((2, 60), await LedgerOfAsync(host.LedgerOwner));
    }

    [Fact]
    public async Task Should_hold_rows_in_the_ledger_while_the_broker_backlog_is_at_its_budget_and_publish_them_in_order_as_the_processor_consumes()
    {
        using var broker = EmbeddedKafkaBroker.Start(Topics.All);
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning with { MaxBrokerBacklog = 30, LedgerProbeInterval = TimeSpan.FromMilliseconds(100) },
            bootstrapServers: broker.BootstrapServers);
        var meters = MeterIds(11_000_501, 60);
        var batches = 8;
        for (var b = 0; b < batches; b++)
        {
            // Each batch one reading per meter, ten seconds after the previous batch's.
            using var response = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m, 600 - 10 * b)))));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await EventuallyAsync(() => Task.FromResult(host.Backlog.Throttled), "the pump throttled");
        // Throttled means the budget is reached, but a one-shot read may still miss records in flight on a busy machine.
        var published = 0;
        await EventuallyAsync(() =>
        {
            published = fixture.ReadTopic(meters.ToHashSet(), bootstrapServers: broker.BootstrapServers, waitForLedger: false).Count;
            return Task.FromResult(published > 0);
        }, "the records within the budget readable");
        Assert.InRange(published, 1, meters.Length * batches - 1);
        Assert.Equal((batches, meters.Length * batches), await LedgerOfAsync(host.LedgerOwner));

        // The processor consumes: commit every partition to its end until everything has been published.
        await EventuallyAsync(() =>
        {
            CommitAsProcessor(broker, EndOffsets(broker));
            return Task.FromResult(!host.Backlog.Throttled && host.Backlog.Rows == 0);
        }, "every row published and consumed");

        var records = fixture.ReadTopic(meters.ToHashSet(), bootstrapServers: broker.BootstrapServers);
        Assert.Equal(meters.Length * batches, records.Count);
        foreach (var meter in records.GroupBy(r => r.Message.Key))
        {
            var times = meter.OrderBy(r => r.Offset.Value).Select(r => System.Text.Json.JsonSerializer.Deserialize<TelemetryReading>(r.Message.Value)!.Timestamp).ToList();
            Assert.Equal(times.Order(), times);
        }
    }

    [Fact]
    public async Task Should_answer_503_with_retry_after_and_accept_nothing_once_the_ledger_holds_its_maximum_backlog()
    {
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning with { MaxBatch = 10, MaxLedgerBacklog = 10, RetryAfter = TimeSpan.FromSeconds(7) },
            bootstrapServers: $"127.0.0.1:{ClosedPort()}");
        var meters = MeterIds(11_000_601, 12);

        using var first = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters[..6].Select(m => Valid(m)))));
        using var second = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters[6..].Select(m => Valid(m)))));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(7), second.Headers.RetryAfter?.Delta);
        var problem = await BodyAsync(second);
        Assert.Equal(7, problem.GetProperty("retryAfterSeconds").GetInt32());
        Assert.False(problem.TryGetProperty("accepted", out _));
        Assert.Equal((1, 6), await LedgerOfAsync(host.LedgerOwner));
    }

    [Fact]
    public async Task Should_answer_503_with_retry_after_and_store_nothing_when_postgresql_does_not_take_the_row()
    {
        await using var slow = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { CommandTimeout = 2 }.ConnectionString).Build();
        await using var host = await fixture.StartHostAsync(IngestionFixture.Provisioning, bootstrapServers: $"127.0.0.1:{ClosedPort()}", dataSource: slow);
        var meters = MeterIds(11_000_701, 2);
        using (var known = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m, 90))))))
            Assert.Equal(HttpStatusCode.OK, known.StatusCode); // the meters are registered and cached now

        // A PostgreSQL that does not answer the insert in time (the table locked by someone else).
        await using var blocker = await fixture.DataSource.OpenConnectionAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE ingest_ledger IN EXCLUSIVE MODE", blocker, tx))
            await lockTable.ExecuteNonQueryAsync();
        using var refused = await host.Client.PostAsync(IngestionHosting.Route, Json(Array(meters.Select(m => Valid(m, 30)))));
        await tx.RollbackAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.Equal((1, 2), await LedgerOfAsync(host.LedgerOwner));
        Assert.Equal(2, host.Backlog.Readings);
    }

    private async Task<(long Rows, long Readings)> LedgerOfAsync(string owner)
    {
        await using var cmd = fixture.DataSource.CreateCommand("SELECT count(*), coalesce(sum(reading_count), 0) FROM ingest_ledger WHERE owner = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = owner });
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Commits offsets as the processor's group would after its meters persisted (OffsetCommit without joining the group).</summary>
    private static void CommitAsProcessor(EmbeddedKafkaBroker broker, IEnumerable<TopicPartitionOffset> offsets)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = TelemetryConsumer.GroupId, EnableAutoCommit = false,
        }).Build();
        consumer.Commit(offsets);
    }

    private static List<TopicPartitionOffset> EndOffsets(EmbeddedKafkaBroker broker)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers, GroupId = "ledger-specs-watermarks", EnableAutoCommit = false,
        }).Build();
        return Enumerable.Range(0, Partitions)
            .Select(p => new TopicPartition(Topics.RawReadings, p))
            .Select(tp => new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(5)).High))
            .ToList();
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, $"not within {Patience}: {what}");
            await Task.Delay(100);
        }
    }

    private static int ClosedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
