namespace SmartGrid.Node.Management;

/// <summary>
/// The node's most recent log lines in memory, for <c>log peek</c>: an SRE looking at one node
/// should not need a shell on it. Registered as a logger provider, so it sees what every other
/// provider sees after the configured level filters, Akka's log included (Akka logs through the
/// logger factory).
/// </summary>
public sealed class LogRingBuffer : ILoggerProvider
{
    public const int DefaultCapacity = 2_000;

    private readonly object _gate = new();
    private readonly string[] _lines;
    private long _written;

    public LogRingBuffer(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _lines = new string[capacity];
    }

    public int Capacity => _lines.Length;

    public void Add(string line)
    {
        lock (_gate)
        {
            _lines[_written % _lines.Length] = line;
            _written++;
        }
    }

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public IReadOnlyList<string> Last(int count)
    {
        lock (_gate)
        {
            var n = (int)Math.Min(Math.Min(count, _lines.Length), _written);
            var result = new string[n];
            for (var i = 0; i < n; i++)
                result[i] = _lines[(_written - n + i) % _lines.Length];
            return result;
        }
    }

    public ILogger CreateLogger(string categoryName) => new RingLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class RingLogger(LogRingBuffer ring, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = formatter(state, exception);
            if (exception is not null) text += $" ({exception.GetType().Name}: {exception.Message})";
            ring.Add($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {Level(logLevel)} {category}: {text}");
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
