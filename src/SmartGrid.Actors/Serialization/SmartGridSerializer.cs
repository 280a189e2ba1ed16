using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Regional;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Regional;

namespace SmartGrid.Actors.Serialization;

/// <summary>
/// JSON for everything that is persisted or crosses the wire, with stable manifests: persisted
/// events live for years, so a type's manifest never changes once written (a new shape gets a
/// new manifest, and the old one stays readable). Never the default reflection serializer.
/// </summary>
public sealed class SmartGridSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4711;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Manifest per type. Append only.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(ReadingsAccepted)] = "meter.readings-accepted.v1",
        [typeof(WindowsEmitted)] = "meter.windows-emitted.v1",
        [typeof(MeterSnapshot)] = "meter.snapshot.v1",
        [typeof(RecordReadings)] = "meter.record-readings.v1",
        [typeof(ReadingsRecorded)] = "meter.readings-recorded.v1",
        [typeof(GetMeterStatus)] = "meter.get-status.v1",
        [typeof(MeterStatus)] = "meter.status.v1",
        [typeof(MeterWindowsReceived)] = "region.meter-windows-received.v1",
        [typeof(RegionalWindowsEmitted)] = "region.windows-emitted.v1",
        [typeof(RegionSnapshot)] = "region.snapshot.v1",
        [typeof(RecordMeterWindows)] = "region.record-meter-windows.v1",
        [typeof(MeterWindowsRecorded)] = "region.meter-windows-recorded.v1",
    };

    private static readonly IReadOnlyDictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key);

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"no manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Json) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest {manifest}");
}
