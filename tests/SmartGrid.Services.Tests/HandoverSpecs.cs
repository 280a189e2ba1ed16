using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SmartGrid.Actors.Hosting;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tariffs;
using SmartGrid.Services.Tests.Notifications;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

/// <summary>
/// Two cluster nodes with the services role, composed like the node composes them
/// (AddSmartGridCluster with the PostgreSQL journal and the repository's akka.hocon, then the
/// grid services and notifications): the node hosting the singletons leaves, the other takes over.
/// </summary>
public sealed class HandoverSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private const string SystemName = "smartgrid-handover";
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);
    private static readonly string[] Roles = [ClusterRoles.Services];

    private readonly Dictionary<string, string> _consumerProperties = new() { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" };
    private readonly SmtpSink _smtp = new();
    // The seed's group names, made unique: the broker is shared by every spec of the run.
    private readonly string _tariffGroup = $"{TariffSettings.GroupId}-{Guid.NewGuid():N}";
    private readonly string _alertGroup = $"{AlertSettings.GroupId}-{Guid.NewGuid():N}";
    private readonly string _notificationGroup = $"{NotificationSettings.GroupId}-{Guid.NewGuid():N}";
    private string _regional = "", _anomalies = "", _overrides = "", _alerts = "", _updates = "", _deadLetters = "";

    protected override void Dispose(bool disposing)
    {
        if (disposing) _smtp.Dispose();
        base.Dispose(disposing);
    }

    private static string HoconFile()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "hocon", "akka.hocon")))
            directory = directory.Parent;
        return Path.Combine(directory?.FullName ?? throw new FileNotFoundException("hocon/akka.hocon"), "hocon", "akka.hocon");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private ConsumerOptions Consumer(string group, params string[] topics) => new()
    {
        GroupId = group, Topics = topics, DeadLetterTopic = _deadLetters, Properties = _consumerProperties,
    };

    /// <summary>
    /// How the abrupt-death spec kills a node in-process: terminating its ActorSystem runs no
    /// coordinated shutdown, so it neither leaves the cluster nor hands its singletons over; the
    /// survivors must find it unreachable and down it (split-brain resolver, stable-after shortened
    /// from 20 s for the test, like the failure detector).
    /// </summary>
    private const string AbruptDeath = """
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.failure-detector.heartbeat-interval = 500ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        """;

    private async Task<IHost> StartNode(int port, int? seedPort, string[]? roles = null, string? hocon = null, int maxNotificationsPerHour = 20)
    {
        roles ??= Roles;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(Db);
        builder.Services.AddSingleton(Fixture.Producer);
        builder.Services.AddSingleton(Fixture.Redis);
        builder.Services.AddGridServices("unused:6379", new GridServicesOptions
        {
            Redis = Keys,
            Tariffs = new TariffSettings { TariffUpdatesTopic = _updates, Consumer = Consumer(_tariffGroup, _regional, _overrides) },
            Alerts = new AlertSettings { AlertsTopic = _alerts, Consumer = Consumer(_alertGroup, _regional, _anomalies) },
        });
        builder.Services.AddNotifications(new NotificationSettings
        {
            Smtp = new SmtpSettings { Port = _smtp.Port }, Consumer = Consumer(_notificationGroup, _alerts, _updates),
            MaxPerRecipientPerHour = maxNotificationsPerHour,
            // The handover is judged on per-meter alerts' emails going out once each: send them at once, as DigestBelow
            // says, rather than holding them for the hourly digest (MeterDigestBelow's default, critical).
            MeterDigestBelow = "",
        });
        var cluster = new ClusterMembership
        {
            Port = port, SystemName = SystemName, SeedNodes = seedPort is { } seed ? [$"akka.tcp://{SystemName}@127.0.0.1:{seed}"] : [],
        };
        builder.Services.AddAkka(SystemName, (akka, _) =>
        {
            akka.AddSmartGridCluster(cluster, ConnectionString, roles, HoconFile())
                .AddGridServices(roles, Fixture.Broker.BootstrapServers, proxies: false)
                .AddNotifications(roles, Fixture.Broker.BootstrapServers, proxy: false);
            // Prepended after the repository's file: these keys win.
            if (hocon is not null) akka.AddHocon(hocon, HoconAddMode.Prepend);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Fresh topics for this scenario, and an operator of Nashik who gets alerts by email.</summary>
    private async Task ArrangeTopicsAndOperatorAsync()
    {
        (_regional, _anomalies, _overrides) = (NewTopic("regional", 3), NewTopic("anomalies", 3), NewTopic("overrides", 3));
        (_alerts, _updates, _deadLetters) = (NewTopic("alerts", 3), NewTopic("tariff_updates", 3), NewTopic("dead_letters", 3));
        await using (var command = Db.CreateCommand("""
                         INSERT INTO users (id, email, password_hash, role, operator_regions)
                         VALUES ('7f7f7f7f-0000-0000-0000-000000000001', 'op@grid.test', 'x', 'OPERATOR', '{Nashik}');
                         INSERT INTO notification_preferences (user_id, channels) VALUES ('7f7f7f7f-0000-0000-0000-000000000001', '{email}');
                         """))
            await command.ExecuteNonQueryAsync();
    }

    private Task<DeliveryResult<string, string>> Produce(string topic, string key, object value) =>
        Fixture.Producer.ProduceAsync(topic, new Message<string, string> { Key = key, Value = WireJson.Serialize(value) });

    private static RegionalAggregateMessage Window(int minute, double load, string size = "1m") => new()
    {
        Region = "Nashik", WindowSize = size, WindowStart = T0.AddMinutes(minute), WindowEnd = T0.AddMinutes(minute + (size == "1m" ? 1 : 15)),
        MeterCount = 10, CapacityKw = 2500, LoadPercentage = load, Revision = 1,
    };

    private static Anomaly Spike(DateTimeOffset at, string meterId = "MTR-00000042") => new()
    {
        MeterId = meterId, Region = "Nashik", Kind = AnomalyKind.Spike, Timestamp = at, BaselineKw = 1, ActualKw = 3.6,
        DeviationPercent = 260, Severity = Severity.High,
    };

    private async Task<bool> AllCommitted() =>
        await CommittedEverything(_tariffGroup, _regional) && await CommittedEverything(_tariffGroup, _overrides)
        && await CommittedEverything(_alertGroup, _regional) && await CommittedEverything(_alertGroup, _anomalies)
        && await CommittedEverything(_notificationGroup, _alerts) && await CommittedEverything(_notificationGroup, _updates);

    [Fact]
    public async Task Should_hand_the_managers_over_to_the_other_node_with_their_state_and_offsets()
    {
        await ArrangeTopicsAndOperatorAsync();

        var (portA, portB) = (FreePort(), FreePort());
        var nodeA = await StartNode(portA, null);
        var nodeB = await StartNode(portB, portA);
        try
        {
            var clusterA = Cluster.Get(nodeA.Services.GetRequiredService<ActorSystem>());
            var clusterB = Cluster.Get(nodeB.Services.GetRequiredService<ActorSystem>());
            await Eventually(() => Task.FromResult(clusterB.State.Members.Count(m => m.Status == MemberStatus.Up) == 2), 20, "two members up");
            // The oldest member with the role hosts the singletons: node A.
            Assert.Equal(clusterA.SelfAddress, clusterB.State.Members.OrderBy(m => m, Member.AgeOrdering).First().Address);

            // Before the handover: two overload windows (no alert yet), a tariff change, an anomaly alert and its email.
            await Produce(_regional, "Nashik", Window(0, 90));
            await Produce(_regional, "Nashik", Window(1, 91));
            await Produce(_regional, "Nashik", Window(0, 82, "15m"));
            await Produce(_anomalies, "MTR-00000042", Spike(T0));
            await Eventually(() => Task.FromResult(_smtp.Messages.Count == 1), 30, "the anomaly alert's email");
            await Eventually(async () => await ScalarAsync<long>("SELECT count(*) FROM tariffs WHERE reason = 'load-based'") == 1, 20, "the tariff change");
            await Eventually(AllCommitted, 20, "offsets committed on node A");
            Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM alerts WHERE type = 'THRESHOLD'"));

            // Node A leaves the cluster gracefully; B takes the singletons over.
            await nodeA.StopAsync();
            await Eventually(() => Task.FromResult(clusterB.State.Members.All(m => m.Address == clusterB.SelfAddress)), 30, "node A gone");

            // After it: the third overload window, a repeat of the anomaly, and a redelivered 15-minute window.
            await Produce(_regional, "Nashik", Window(2, 92));
            await Produce(_anomalies, "MTR-00000042", Spike(T0.AddMilliseconds(5)));
            await Produce(_regional, "Nashik", Window(0, 82, "15m"));

            await Eventually(() => Task.FromResult(_smtp.Messages.Count == 2), 40, "the overload alert's email from node B");
            await Eventually(AllCommitted, 30, "offsets committed on node B");

            // The windows counted on A made the overload on B; the open anomaly alert took the repeat.
            Assert.Equal(["ANOMALY/2", "THRESHOLD/1"], await AlertCounts());
            Assert.Equal(["[HIGH] ANOMALY alert in Nashik", "[HIGH] THRESHOLD alert in Nashik"], _smtp.Messages.Select(m => m.Message.Subject).Order());
            Assert.Equal(2, await ScalarAsync<long>("SELECT count(*) FROM alert_acknowledgments WHERE action = 'created'"));
            Assert.Equal(2, await ScalarAsync<long>("SELECT count(*) FROM notification_log WHERE status = 'sent' AND attempts = 1"));
            // No second tariff change and one tariff_updates message.
            Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM tariffs WHERE reason = 'load-based'"));
            Assert.Single(ReadAll(_updates));
            Assert.Equal(2, ReadAll(_alerts).Count);
            Assert.Empty(ReadAll(_deadLetters));
        }
        finally
        {
            await nodeB.StopAsync();
            await nodeA.StopAsync();
            nodeB.Dispose();
            nodeA.Dispose();
        }
    }

    [Fact]
    public async Task Should_take_over_from_a_node_that_dies_mid_scenario_without_duplicating_or_losing_an_alert_or_a_notification()
    {
        await ArrangeTopicsAndOperatorAsync();

        // Node A hosts the singletons (oldest with the role), B is the other services node. C has no
        // services role: with keep-majority two nodes alone would be a tie, and the survivor would
        // down itself whenever the dead node had the lower address; a real cluster has other nodes too.
        var (portA, portB, portC) = (FreePort(), FreePort(), FreePort());
        // Every operator's email counts here: the per-recipient limit is not what this spec is about.
        var nodeA = await StartNode(portA, null, hocon: AbruptDeath, maxNotificationsPerHour: 1000);
        var nodeB = await StartNode(portB, portA, hocon: AbruptDeath, maxNotificationsPerHour: 1000);
        var nodeC = await StartNode(portC, portA, roles: ["witness"], hocon: AbruptDeath);
        try
        {
            var systemA = nodeA.Services.GetRequiredService<ActorSystem>();
            var clusterA = Cluster.Get(systemA);
            var clusterB = Cluster.Get(nodeB.Services.GetRequiredService<ActorSystem>());
            await Eventually(() => Task.FromResult(clusterB.State.Members.Count(m => m.Status == MemberStatus.Up) == 3), 30, "three members up");
            Assert.Equal(clusterA.SelfAddress,
                clusterB.State.Members.Where(m => m.HasRole(ClusterRoles.Services)).OrderBy(m => m, Member.AgeOrdering).First().Address);

            // Two overload windows and a tariff window before the death, the third overload window after it.
            await Produce(_regional, "Nashik", Window(0, 90));
            await Produce(_regional, "Nashik", Window(1, 91));
            await Produce(_regional, "Nashik", Window(0, 82, "15m"));

            // Anomalies keep flowing while A dies: 30 meters, every third one spiking twice (one alert, counted
            // twice). The second half waits for the death, so both nodes have work whatever the machine's pace.
            const int meters = 30;
            var expectedCounts = new Dictionary<string, int>();
            var dead = new TaskCompletionSource();
            var flow = Task.Run(async () =>
            {
                for (var i = 0; i < meters; i++)
                {
                    if (i == meters / 2) await dead.Task;
                    var meter = $"MTR-{100 + i:D8}";
                    await Produce(_anomalies, meter, Spike(T0.AddSeconds(i), meter));
                    expectedCounts[meter] = 1;
                    if (i % 3 == 0)
                    {
                        await Produce(_anomalies, meter, Spike(T0.AddSeconds(i).AddMilliseconds(5), meter));
                        expectedCounts[meter] = 2;
                    }

                    await Task.Delay(100);
                }
            });

            // Mid-flow, with emails on their way: A dies without leaving.
            await Eventually(() => Task.FromResult(_smtp.Messages.Count >= 5), 30, "the first alert emails from node A");
            await systemA.Terminate();
            dead.SetResult();
            await flow;
            await Produce(_regional, "Nashik", Window(2, 92));

            // Unreachable first (a graceful leave never is), then downed and removed by the survivors.
            // It stays unreachable for at least stable-after (2 s): long enough for a 50 ms poll to see it.
            await Eventually(() => Task.FromResult(clusterB.State.Unreachable.Any(m => m.Address == clusterA.SelfAddress)), 30,
                "node A unreachable");
            await Eventually(() => Task.FromResult(clusterB.State.Members.All(m => m.Address != clusterA.SelfAddress)), 30, "node A downed");

            await Eventually(() => Task.FromResult(NotificationKeys().Count == meters + 1), 45, "every alert's email, the rest from node B");
            await Eventually(AllCommitted, 30, "offsets committed on node B");

            // One alert per (type, region, meter), every anomaly counted once.
            var alerts = await AlertRows();
            Assert.Equal(meters + 1, alerts.Count);
            Assert.Equal(meters + 1, alerts.Select(a => (a.Type, a.Region, a.MeterId)).Distinct().Count());
            Assert.Equal(expectedCounts.OrderBy(c => c.Key).Select(c => $"{c.Key}/{c.Value}"),
                alerts.Where(a => a.Type == "ANOMALY").OrderBy(a => a.MeterId).Select(a => $"{a.MeterId}/{a.Count}"));
            Assert.Equal("THRESHOLD/Nashik/", string.Join(",", alerts.Where(a => a.Type == "THRESHOLD").Select(a => $"{a.Type}/{a.Region}/{a.MeterId}")));
            Assert.Equal(meters + 1, await ScalarAsync<long>("SELECT count(*) FROM alert_acknowledgments WHERE action = 'created'"));

            // The promise (README, Services): every alert notified, none lost; a delivery is logged right after the
            // channel accepts it, so A killed between the two re-sends that one notification from B, under the same
            // idempotency key for the receiver to drop. So: one key per alert, at most one re-send of a key, and a
            // second copy is the same notification (same alert, same meter).
            var mails = _smtp.Messages;
            var byKey = mails.GroupBy(m => m.Message.Headers["X-SmartGrid-Notification"]).ToList();
            Output!.WriteLine($"{mails.Count} emails for {byKey.Count} notifications ({mails.Count - byKey.Count} re-sent after the kill)");
            Assert.Equal(meters + 1, byKey.Count);
            Assert.All(byKey, copies => Assert.InRange(copies.Count(), 1, 2));
            Assert.All(byKey, copies => Assert.Single(copies.Select(m => (m.Message.Subject, AlertIdOf(m), MeterOf(m))).Distinct()));
            var notified = byKey.Select(copies => copies.First()).ToList();
            Assert.Equal(alerts.Select(a => a.AlertId.ToString()).Order(), notified.Select(AlertIdOf).Order());
            Assert.Equal(expectedCounts.Keys.Order(), notified.Select(MeterOf).Where(m => m.Length > 0).Order());

            // The log agrees: one sent row per alert created event, nothing pending or failed.
            Assert.Equal(meters + 1, await ScalarAsync<long>("SELECT count(*) FROM notification_log"));
            Assert.Equal(meters + 1, await ScalarAsync<long>("SELECT count(DISTINCT event_key) FROM notification_log WHERE status = 'sent'"));
            // A created event published twice (A died between sending and marking it) is the same event: same id.
            var published = ReadAll(_alerts).Select(r => WireJson.Deserialize<AlertEventMessage>(r.Message.Value)).ToList();
            Assert.Equal(meters + 1, published.Where(e => e.Event == "created").Select(e => e.EventId).Distinct().Count());
            Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM tariffs WHERE reason = 'load-based'"));
            Assert.Empty(ReadAll(_deadLetters));
        }
        finally
        {
            await nodeC.StopAsync();
            await nodeB.StopAsync();
            await nodeA.StopAsync();
            nodeC.Dispose();
            nodeB.Dispose();
            nodeA.Dispose();
        }
    }

    /// <summary>The idempotency keys of the emails received so far: one per notification, however often it was sent.</summary>
    private HashSet<string> NotificationKeys() => _smtp.Messages.Select(m => m.Message.Headers["X-SmartGrid-Notification"]!).ToHashSet();

    private static string AlertIdOf(ReceivedMail mail) =>
        System.Text.RegularExpressions.Regex.Match(mail.Message.TextBody ?? "", "Alert: ([0-9a-f-]{36})").Groups[1].Value;

    private static string MeterOf(ReceivedMail mail) =>
        System.Text.RegularExpressions.Regex.Match(mail.Message.TextBody ?? "", "on meter (MTR-[0-9]{8})").Groups[1].Value;

    private async Task<List<(Guid AlertId, string Type, string Region, string? MeterId, int Count)>> AlertRows()
    {
        var rows = new List<(Guid, string, string, string?, int)>();
        await using var command = Db.CreateCommand("SELECT alert_id, type, region, meter_id, occurrence_count FROM alerts");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt32(4)));
        return rows;
    }

    private async Task<List<string>> AlertCounts()
    {
        var rows = new List<string>();
        await using var command = Db.CreateCommand("SELECT type, occurrence_count FROM alerts ORDER BY type");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add($"{reader.GetString(0)}/{reader.GetInt32(1)}");
        return rows;
    }
}
