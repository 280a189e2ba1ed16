using Confluent.Kafka;

namespace SmartGrid.Kafka;

/// <summary>
/// Wraps a deserializer so a failure does not throw out of Consume: the consumer loop reads the failure
/// (and the raw bytes) right after Consume returns. Keys are always copied to a reusable scratch buffer,
/// because a dead letter needs the original key bytes even when only the value failed.
/// Used by the single consumer thread only.
/// </summary>
internal sealed class CapturingDeserializer<T>(IDeserializer<T> inner, bool keepRawCopy) : IDeserializer<T>
{
    private byte[] _scratch = new byte[64];
    private int _length;
    private bool _isNull;

    public Exception? Failure { get; private set; }

    public T Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (keepRawCopy)
        {
            _isNull = isNull;
            _length = data.Length;
            if (_scratch.Length < data.Length)
                _scratch = new byte[Math.Max(data.Length, _scratch.Length * 2)];
            data.CopyTo(_scratch);
        }
        try
        {
            return inner.Deserialize(data, isNull, context);
        }
        catch (Exception ex)
        {
            Failure = ex;
            if (!keepRawCopy)
            {
                _isNull = isNull;
                _length = data.Length;
                _scratch = data.ToArray();
            }
            return default!;
        }
    }

    /// <summary>Copy of the raw bytes of the last call (null for a null key/value).</summary>
    public byte[]? RawCopy() => _isNull ? null : _scratch.AsSpan(0, _length).ToArray();

    public void ClearFailure() => Failure = null;
}
