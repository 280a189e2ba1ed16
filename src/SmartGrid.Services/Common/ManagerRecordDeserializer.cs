using System.Text;
using Confluent.Kafka;

namespace SmartGrid.Services.Common;

/// <summary>A record value as the consumer hands it to a manager: the JSON and the message read from it.</summary>
public sealed record ParsedValue(string Json, object Message);

/// <summary>
/// Reads and validates a manager's record on the consumer thread. A value that is not a valid
/// message of its topic fails here, so the Kafka stage logs it with its key, sends it to the
/// dead-letter topic and commits its offset, and the stream goes on with the records after it.
/// </summary>
internal sealed class ManagerRecordDeserializer(Func<string, string, object> parse) : IDeserializer<ParsedValue>
{
    public ParsedValue Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull) throw new MalformedRecordException("the value is null");
        var json = Encoding.UTF8.GetString(data);
        return new ParsedValue(json, parse(context.Topic, json));
    }
}

/// <summary>A record that reads as JSON but is not a valid message of its topic (missing region, negative price…).</summary>
public sealed class MalformedRecordException(string message) : Exception(message)
{
    /// <summary>Throws when <paramref name="condition"/> is false, naming the offending field.</summary>
    public static void Require(bool condition, string field, string problem)
    {
        if (!condition) throw new MalformedRecordException($"{field}: {problem}");
    }
}
