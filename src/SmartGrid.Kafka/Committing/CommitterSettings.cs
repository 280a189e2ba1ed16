namespace SmartGrid.Kafka;

/// <summary>Batching of offset commits: a batch is committed when it holds <see cref="MaxBatch"/> offsets or is <see cref="MaxInterval"/> old.</summary>
public sealed record CommitterSettings
{
    public static CommitterSettings Default { get; } = new();

    /// <summary>
    /// Offsets folded into one commit at most. Large by default: <see cref="MaxInterval"/> already bounds how much
    /// is re-read after a crash, and every commit is a broker round trip.
    /// </summary>
    public int MaxBatch { get; init; } = 10_000;
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}
