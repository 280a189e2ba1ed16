using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Notifications;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests.Notifications;

public sealed class NotificationsHostingSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    [Fact]
    public async Task Should_run_the_notification_manager_as_a_singleton_on_a_services_node_with_the_registered_channels()
    {
        using var smtp = new SmtpSink();
        await using (var command = Db.CreateCommand("""
                         INSERT INTO users (id, email, password_hash, role, operator_regions)
                         VALUES ('7f7f7f7f-0000-0000-0000-000000000001', 'op@grid.test', 'x', 'OPERATOR', '{Pune-West}');
                         INSERT INTO notification_preferences (user_id, channels) VALUES ('7f7f7f7f-0000-0000-0000-000000000001', '{email}');
                         """))
            await command.ExecuteNonQueryAsync();

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(Db);
        builder.Services.AddSingleton(Fixture.Redis);
        builder.Services.AddSingleton(new GridServicesOptions { Redis = Keys });
        builder.Services.AddNotifications(new NotificationSettings { Smtp = new SmtpSettings { Port = smtp.Port } });
        builder.Services.AddAkka("notifications-hosting", akka => akka
            .WithRemoting("127.0.0.1", 0)
            .WithClustering(new ClusterOptions { Roles = [ClusterRoles.Services] })
            .WithActors((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress))
            .AddNotifications([ClusterRoles.Services], kafkaBootstrap: null));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            Assert.Equal(["email", "webhook"], host.Services.GetServices<INotificationChannel>().Select(c => c.Name));
            var manager = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<NotificationManager>();
            var alert = new AlertEventMessage(1, "created", "system", DateTimeOffset.UtcNow, new AlertView
            {
                AlertId = Guid.NewGuid(), Type = AlertType.Anomaly, Severity = "critical", Region = "Pune-West", MeterId = "MTR-00000009",
                Message = "Consumption spike", Metadata = System.Text.Json.JsonDocument.Parse("{}").RootElement, Status = AlertStatus.Active,
            });
            var handled = await manager.Ask<RecordHandled>(new ConsumedRecord("alerts", null, WireJson.Serialize(alert)), TimeSpan.FromSeconds(20));
            Assert.Equal("sent:1,failed:0", handled.Outcome);
            Assert.Equal("[CRITICAL] ANOMALY alert in Pune-West", Assert.Single(smtp.Messages).Message.Subject);
            Assert.Contains("on meter MTR-00000009", smtp.Messages[0].Message.TextBody);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
