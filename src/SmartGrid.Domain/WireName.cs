using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Serialization;

namespace SmartGrid.Domain;

/// <summary>
/// An enum value's wire name is declared once, on the value, as its <see cref="JsonStringEnumMemberNameAttribute"/>:
/// the JSON converter writes that name, and the tables, topics and routes that spell the value as text read it here,
/// so the two can never disagree.
/// </summary>
public static class WireName
{
    public static string Of<T>(T value) where T : struct, Enum =>
        Names<T>.ByValue.TryGetValue(value, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {typeof(T).Name}");

    public static T Parse<T>(string name) where T : struct, Enum =>
        TryParse(name, out T value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(name), name,
                $"{typeof(T).Name} '{name}' is unknown: expected one of {string.Join(", ", Enum.GetValues<T>().Select(Of))}");

    public static bool TryParse<T>(string? name, out T value) where T : struct, Enum
    {
        value = default;
        return name is not null && Names<T>.ByName.TryGetValue(name, out value);
    }

    private static class Names<T> where T : struct, Enum
    {
        public static readonly FrozenDictionary<T, string> ByValue = typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static)
            .ToFrozenDictionary(field => (T)field.GetValue(null)!, field => field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                ?? throw new InvalidOperationException($"{typeof(T).Name}.{field.Name} declares no [JsonStringEnumMemberName]"));

        public static readonly FrozenDictionary<string, T> ByName = ByValue.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
    }
}
