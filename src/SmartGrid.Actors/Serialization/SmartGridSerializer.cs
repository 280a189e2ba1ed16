using System.Collections.Frozen;
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
/// The exceptions are the two that hold a meter's bulk, written in compact binary forms: the
/// per-reading event, <see cref="ReadingsAccepted"/> (<see cref="ReadingsAcceptedFormat"/>, v2),
/// and the meter's snapshot (<see cref="MeterSnapshotFormat"/>, v2); both still read their JSON v1.
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

    private const string ReadingsAcceptedV1 = "meter.readings-accepted.v1";
    private const string ReadingsAcceptedV2 = "meter.readings-accepted.v2";
    private const string MeterSnapshotV1 = "meter.snapshot.v1";
    private const string MeterSnapshotV2 = "meter.snapshot.v2";
    /// <summary>Before stream runs: read as run 0, the oldest.</summary>
    private const string RecordReadingsV1 = "meter.record-readings.v1";

    /// <summary>Manifest each type is written with. Append only; a replaced manifest moves to <see cref="Types"/>'s legacy entries.</summary>
    public static readonly IReadOnlyDictionary<Type, string> Manifests = new Dictionary<Type, string>
    {
        [typeof(ReadingsAccepted)] = ReadingsAcceptedV2,
        [typeof(WindowsEmitted)] = "meter.windows-emitted.v1",
        [typeof(VoltageEventsObserved)] = "meter.voltage-events-observed.v1",
        [typeof(CustomerInterruptionsObserved)] = "meter.customer-interruptions-observed.v1",
        [typeof(MeterSnapshot)] = MeterSnapshotV2,
        [typeof(RecordReadings)] = "meter.record-readings.v2",
        [typeof(ReadingsRecorded)] = "meter.readings-recorded.v2",
        [typeof(CheckpointMeter)] = "meter.checkpoint.v1",
        [typeof(MeterCheckpointed)] = "meter.checkpointed.v1",
        [typeof(MeterCheckpointRefused)] = "meter.checkpoint-refused.v1",
        [typeof(GetMeterStatus)] = "meter.get-status.v1",
        [typeof(MeterStatus)] = "meter.status.v1",
        [typeof(MeterWindowsReceived)] = "region.meter-windows-received.v1",
        [typeof(RegionalWindowsEmitted)] = "region.windows-emitted.v1",
        [typeof(RegionSnapshot)] = "region.snapshot.v1",
        [typeof(RecordMeterWindows)] = "region.record-meter-windows.v1",
        [typeof(MeterWindowsRecorded)] = "region.meter-windows-recorded.v1",
    };

    /// <summary>Every manifest that can be read: the current ones and the legacy JSON ones.</summary>
    private static readonly FrozenDictionary<string, Type> Types = Manifests.ToDictionary(kv => kv.Value, kv => kv.Key)
        .Append(new KeyValuePair<string, Type>(ReadingsAcceptedV1, typeof(ReadingsAccepted)))
        .Append(new KeyValuePair<string, Type>(MeterSnapshotV1, typeof(MeterSnapshot)))
        .Append(new KeyValuePair<string, Type>(RecordReadingsV1, typeof(RecordReadings)))
        .ToFrozenDictionary();

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        Manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"no manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => obj switch
    {
        ReadingsAccepted readings => ReadingsAcceptedFormat.Write(readings),
        MeterSnapshot snapshot => MeterSnapshotFormat.Write(snapshot),
        _ => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        ReadingsAcceptedV2 => ReadingsAcceptedFormat.Read(bytes),
        MeterSnapshotV2 => MeterSnapshotFormat.Read(bytes),
        _ => Types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Json) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest {manifest}"),
    };
}
