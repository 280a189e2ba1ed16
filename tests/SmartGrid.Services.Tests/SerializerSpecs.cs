using System.Text.Json;
using Akka.Actor;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;
using SmartGrid.Services.Hosting;

namespace SmartGrid.Services.Tests;

public sealed class SerializerSpecs
{
    private static readonly AlertView Alert = new()
    {
        AlertId = Guid.NewGuid(), Type = AlertType.Anomaly, Severity = "high", Region = "Nashik", MeterId = "MTR-00000001",
        Message = "spike", Metadata = JsonDocument.Parse("""{"baseline_kw":1.5}""").RootElement.Clone(), Status = AlertStatus.Acknowledged,
        OccurrenceCount = 2, FirstSeenAt = DateTimeOffset.UnixEpoch, LastSeenAt = DateTimeOffset.UnixEpoch.AddSeconds(1),
        CreatedAt = DateTimeOffset.UnixEpoch, AcknowledgedBy = "operator-1", AcknowledgedAt = DateTimeOffset.UnixEpoch.AddMinutes(1),
    };

    public static TheoryData<object> Messages() =>
    [
        new AcknowledgeAlert(Guid.NewGuid(), "operator-1"),
        new ResolveAlert(Guid.NewGuid(), "operator-2"),
        new AlertCommandRejected(Guid.NewGuid(), AlertCommandError.InvalidTransition, "cannot resolve: it is resolved"),
        new AlertCommandSucceeded(Alert),
        Alert,
        RunMaintenance.Instance,
        MaintenanceDone.Instance,
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Should_round_trip_every_wire_message(object message)
    {
        using var system = ActorSystem.Create("serializer-specs");
        var serializer = new GridServicesSerializer((ExtendedActorSystem)system);
        var manifest = serializer.Manifest(message);
        var back = serializer.FromBinary(serializer.ToBinary(message), manifest);
        Assert.Equal(message.GetType(), back.GetType());
        Assert.Equal(JsonSerializer.Serialize(message, message.GetType(), WireJson.Options),
            JsonSerializer.Serialize(back, back.GetType(), WireJson.Options));
    }

    [Fact]
    public void Should_bind_a_manifest_to_every_message_the_gateway_sends_or_receives()
    {
        Assert.Equal(GridServicesSerializer.Manifests.Count, GridServicesSerializer.Manifests.Values.Distinct().Count());
        Assert.Contains(typeof(AcknowledgeAlert), GridServicesSerializer.Manifests.Keys);
        Assert.Contains(typeof(AlertCommandRejected), GridServicesSerializer.Manifests.Keys);
    }
}
