using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Node.Ingestion;

/// <summary>
/// Limits and policy of <c>POST /telemetry/batch</c>, bound from <see cref="Section"/>.
/// The defaults fit the seed's simulator (batches of 500) with a tenfold margin.
/// </summary>
public sealed record IngestionOptions
{
    public const string Section = "SmartGrid:Ingestion";

    /// <summary>
    /// Past a few minutes one reading from the future could again outrun its meter's genuine
    /// readings by more than the windows' lateness; that is a broken clock to fix, not to allow.
    /// </summary>
    private static readonly TimeSpan MaxClockSkewLimit = TimeSpan.FromMinutes(5);

    /// <summary>Most records one request may carry; more is answered with 413.</summary>
    public int MaxBatch { get; init; } = 5_000;

    /// <summary>Largest request body read; a longer one is answered with 413 (default 16 MiB).</summary>
    public long MaxBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// When true a reading of a meter missing from the registry is rejected (field meter_id);
    /// when false (the seed's behaviour) the meter is registered on first sight.
    /// </summary>
    public bool RequireRegisteredMeters { get; init; }

    /// <summary>
    /// How long a request waits for Kafka to acknowledge its readings before it answers 503.
    /// Records still in the producer may be delivered later; the client's retry is then a
    /// duplicate, which the pipeline drops (meter_id + timestamp identify a reading).
    /// </summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>With <see cref="RequireRegisteredMeters"/>: how long a meter found unregistered is not looked up again.</summary>
    public TimeSpan UnknownMeterRecheck { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How far ahead of this node's clock a reading may be stamped; one further ahead is refused
    /// (field <c>timestamp</c>) here and, arriving on Kafka by another way, dead-lettered by the
    /// processor. The default lives with the rule it sets: <see cref="ReadingValidationOptions.MaxClockSkew"/>.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = ReadingValidationOptions.Default.MaxClockSkew;

    /// <summary>The reading rules these options set, for every validator of raw readings on the node.</summary>
    public ReadingValidationOptions ReadingRules() => ReadingValidationOptions.Default with { MaxClockSkew = MaxClockSkew };

    /// <exception cref="InvalidOperationException">A value is out of range (fails start-up with the setting's name).</exception>
    public IngestionOptions Validate()
    {
        if (MaxBatch < 1)
            throw new InvalidOperationException($"{Section}:MaxBatch must be at least 1 (is {MaxBatch})");
        if (MaxBodyBytes < 2)
            throw new InvalidOperationException($"{Section}:MaxBodyBytes must be at least 2 (is {MaxBodyBytes})");
        if (AckTimeout <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:AckTimeout must be positive (is {AckTimeout})");
        if (UnknownMeterRecheck < TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:UnknownMeterRecheck must not be negative (is {UnknownMeterRecheck})");
        if (MaxClockSkew < TimeSpan.Zero || MaxClockSkew > MaxClockSkewLimit)
            throw new InvalidOperationException($"{Section}:MaxClockSkew must be between 0 and {MaxClockSkewLimit} (is {MaxClockSkew})");
        return this;
    }
}
