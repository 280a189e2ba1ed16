using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Tariffs;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

public sealed class HostingSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    [Fact]
    public async Task Should_run_both_managers_as_singletons_on_a_services_node_and_answer_through_the_registry()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(Db);
        builder.Services.AddSingleton(Fixture.Producer);
        builder.Services.AddSingleton(Fixture.Redis);
        builder.Services.AddGridServices("unused:6379", new GridServicesOptions { Redis = Keys });
        builder.Services.AddAkka("grid-services-hosting", akka => akka
            .WithRemoting("127.0.0.1", 0)
            .WithClustering(new ClusterOptions { Roles = [ClusterRoles.Services] })
            .WithActors((system, _) => Cluster.Get(system).Join(Cluster.Get(system).SelfAddress))
            .AddGridServices([ClusterRoles.Services], kafkaBootstrap: null));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            var alerts = await registry.GetAsync<AlertManagerKey>();
            Assert.NotNull(await registry.GetAsync<TariffManagerKey>());
            var reply = await alerts.Ask<AlertCommandRejected>(new AcknowledgeAlert(Guid.NewGuid(), "operator-1"), TimeSpan.FromSeconds(20));
            Assert.Equal(AlertCommandError.NotFound, reply.Error);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
