using System.Buffers;
using System.Text;
using System.Text.Json;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Node.Ingestion;

/// <summary>
/// How a ledger row holds its batch: the exact Kafka records the pump publishes, each as its key
/// (the meter id) and its value (the reading's JSON on raw_readings), both UTF-8 and prefixed by
/// their 7-bit encoded length. Publishing then needs no parsing, and a republish sends the same bytes.
/// </summary>
public static class LedgerPayload
{
    public static byte[] Encode(IReadOnlyList<TelemetryReading> readings)
    {
        var buffer = new ArrayBufferWriter<byte>(readings.Count * 256);
        var json = new ArrayBufferWriter<byte>(512);
        using var writer = new Utf8JsonWriter(json);
        foreach (var reading in readings)
        {
            json.ResetWrittenCount();
            writer.Reset(json);
            JsonSerializer.Serialize(writer, reading, IngestionJsonContext.Default.TelemetryReading);
            WriteKey(buffer, reading.MeterId);
            WriteBytes(buffer, json.WrittenSpan);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The records of a payload, in the order they were accepted.</summary>
    public static List<(byte[] Key, byte[] Value)> Decode(ReadOnlySpan<byte> payload)
    {
        var records = new List<(byte[], byte[])>();
        while (!payload.IsEmpty)
        {
            var key = ReadBytes(ref payload);
            var value = ReadBytes(ref payload);
            records.Add((key, value));
        }
        return records;
    }

    private static void WriteKey(ArrayBufferWriter<byte> buffer, string key)
    {
        var length = Encoding.UTF8.GetByteCount(key);
        WriteLength(buffer, length);
        Encoding.UTF8.GetBytes(key, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static void WriteBytes(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes)
    {
        WriteLength(buffer, bytes.Length);
        buffer.Write(bytes);
    }

    private static void WriteLength(ArrayBufferWriter<byte> buffer, int length)
    {
        var span = buffer.GetSpan(5);
        var written = 0;
        var value = (uint)length;
        while (value >= 0x80)
        {
            span[written++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[written++] = (byte)value;
        buffer.Advance(written);
    }

    private static byte[] ReadBytes(ref ReadOnlySpan<byte> payload)
    {
        var length = 0;
        var shift = 0;
        byte b;
        do
        {
            if (payload.IsEmpty || shift > 28) throw new InvalidDataException("truncated ledger payload");
            b = payload[0];
            payload = payload[1..];
            length |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        if (length > payload.Length) throw new InvalidDataException("truncated ledger payload");
        var bytes = payload[..length].ToArray();
        payload = payload[length..];
        return bytes;
    }
}
