using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace SmartGrid.Serialization;

/// <summary>
/// JSON with a stable manifest per type, the one way our messages cross the wire or are persisted: a type's
/// manifest never changes once written (a new shape gets a new manifest), and a manifest retired by a new
/// shape stays readable as a legacy entry. Never the default reflection serializer.
/// </summary>
public abstract class JsonManifestSerializer : SerializerWithStringManifest
{
    private readonly IReadOnlyDictionary<Type, string> _manifests;
    private readonly JsonSerializerOptions _json;
    private readonly FrozenDictionary<string, Type> _types;

    /// <param name="manifests">The manifest each type is written with.</param>
    /// <param name="legacy">Manifests no longer written that still read as their type.</param>
    protected JsonManifestSerializer(ExtendedActorSystem system, IReadOnlyDictionary<Type, string> manifests, JsonSerializerOptions json,
        params IEnumerable<KeyValuePair<string, Type>> legacy) : base(system)
    {
        _manifests = manifests;
        _json = json;
        _types = manifests.Select(kv => KeyValuePair.Create(kv.Value, kv.Key)).Concat(legacy).ToFrozenDictionary();
    }

    public override string Manifest(object o) =>
        _manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"no manifest for {o.GetType()}");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _json);

    public override object FromBinary(byte[] bytes, string manifest) =>
        _types.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, _json) ?? throw new SerializationException($"null payload for {manifest}")
            : throw new SerializationException($"unknown manifest {manifest}");
}
