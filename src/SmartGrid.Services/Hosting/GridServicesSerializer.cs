using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Common;

namespace SmartGrid.Services.Hosting;

/// <summary>
/// JSON (System.Text.Json, snake_case) for the grid services' messages that cross the wire: the
/// gateway's commands to the AlertManager singleton and their replies. Manifests are stable: a
/// new shape gets a new manifest. Registered by <see cref="GridServicesHosting.AddGridServices(Akka.Hosting.AkkaConfigurationBuilder, IEnumerable{string}, string?)"/>.
/// </summary>
public sealed class GridServicesSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
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

    private static readonly FrozenDictionary<string, Type> Types = Manifests.ToFrozenDictionary(kv => kv.Value, kv => kv.Key);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"no manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), WireJson.Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, WireJson.Options) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest {manifest}");
}
