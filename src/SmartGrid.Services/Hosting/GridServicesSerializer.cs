using Akka.Actor;
using SmartGrid.Serialization;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;

namespace SmartGrid.Services.Hosting;

/// <summary>
/// JSON (<see cref="WireJson"/>, snake_case) with stable manifests (<see cref="JsonManifestSerializer"/>) for the grid
/// services' messages that cross the wire: the gateway's commands to the AlertManager singleton and their replies.
/// Registered by <see cref="GridServicesHosting.AddGridServices(Akka.Hosting.AkkaConfigurationBuilder, IEnumerable{string}, string?)"/>.
/// </summary>
public sealed class GridServicesSerializer(ExtendedActorSystem system) : JsonManifestSerializer(system, Manifests, WireJson.Options)
{
    public const int SerializerId = 4720;

    /// <summary>Manifest per type. Append only.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(AcknowledgeAlert)] = "alerts.acknowledge.v1",
        [typeof(ResolveAlert)] = "alerts.resolve.v1",
        [typeof(AlertCommandSucceeded)] = "alerts.command-succeeded.v1",
        [typeof(AlertCommandRejected)] = "alerts.command-rejected.v1",
        [typeof(AlertView)] = "alerts.alert.v1",
        [typeof(RunMaintenance)] = "services.run-maintenance.v1",
        [typeof(MaintenanceDone)] = "services.maintenance-done.v1",
        [typeof(CheckOutages)] = "alerts.check-outages.v1",
        [typeof(OutagesChecked)] = "alerts.outages-checked.v1",
    };

    public override int Identifier => SerializerId;
}
