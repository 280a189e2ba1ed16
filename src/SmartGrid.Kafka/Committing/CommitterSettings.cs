namespace SmartGrid.Kafka;

/// <summary>Batching of offset commits: a batch is committed when it holds <see cref="MaxBatch"/> offsets or is <see cref="MaxInterval"/> old.</summary>
public sealed record CommitterSettings
{
    public static CommitterSettings Default { get; } = new();

    public int MaxBatch { get; init; } = 1_000;
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}
