using System.Buffers;
using System.Text;
using System.Text.Json;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Ingestion;

/// <summary>
/// How a ledger row holds its batch: the exact Kafka records the pump publishes, each as its key
/// (the meter id) and its value (the reading's JSON on raw_readings), both UTF-8 and prefixed by
/// their 7-bit encoded length. Publishing then needs no parsing, and a republish sends the same bytes.
/// </summary>
public static class LedgerPayload
{
    // A reading's record is about 300 bytes: a batch of 500 would be a large-object-heap array per
    // request, each one pressing for a full GC of a heap holding every meter's state.
    private const int RecordBytesHint = 320;

    public static EncodedBatch Encode(IReadOnlyList<TelemetryReading> readings)
    {
        var buffer = new EncodedBatch(readings.Count * RecordBytesHint);
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
        return buffer;
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

    private static void WriteKey(EncodedBatch buffer, string key)
    {
        var length = Encoding.UTF8.GetByteCount(key);
        WriteLength(buffer, length);
        Encoding.UTF8.GetBytes(key, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static void WriteBytes(IBufferWriter<byte> buffer, ReadOnlySpan<byte> bytes)
    {
        WriteLength(buffer, bytes.Length);
        buffer.Write(bytes);
    }

    private static void WriteLength(IBufferWriter<byte> buffer, int length)
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

/// <summary>
/// A ledger payload in a buffer rented from the shared array pool (or read back from PostgreSQL),
/// returned to the pool by <see cref="Dispose"/> once nobody reads it any more.
/// </summary>
public sealed class EncodedBatch : IBufferWriter<byte>, IDisposable
{
    private byte[]? _buffer;
    private readonly bool _pooled;

    internal EncodedBatch(int capacity)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        _pooled = true;
    }

    /// <summary>A payload as stored (not pooled).</summary>
    public EncodedBatch(byte[] stored)
    {
        _buffer = stored;
        Length = stored.Length;
    }

    public int Length { get; private set; }
    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);
    private byte[] Buffer => _buffer ?? throw new ObjectDisposedException(nameof(EncodedBatch));

    public void Advance(int count) => Length += count;
    public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(Length);
    public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(Length);

    private byte[] Reserve(int sizeHint)
    {
        var buffer = Buffer;
        if (buffer.Length - Length >= Math.Max(sizeHint, 1)) return buffer;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, Length + sizeHint));
        buffer.AsSpan(0, Length).CopyTo(bigger);
        if (_pooled) ArrayPool<byte>.Shared.Return(buffer);
        return _buffer = bigger;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null && _pooled) ArrayPool<byte>.Shared.Return(buffer);
    }
}
