using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Ingestion;

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
    /// When true (the default) a reading of a meter missing from the registry is rejected (field
    /// meter_id); when false (Development's default) the meter is registered on first sight, into
    /// the known region the reading names, and with a key only by a key allowed to provision.
    /// </summary>
    public bool RequireRegisteredMeters { get; init; } = true;

    /// <summary>
    /// When true (the default) every request needs an ingestion API key (Authorization: Bearer
    /// sgk_… or X-Api-Key); false, the seed's open mode, is allowed only in Development.
    /// </summary>
    public bool RequireApiKey { get; init; } = true;

    /// <summary>
    /// Unconsumed raw_readings records per partition (high watermark − the processor group's
    /// committed offset) past which the ledger pump stops publishing; rows wait in PostgreSQL
    /// meanwhile. The default keeps the embedded broker (5 MiB per partition, older data dropped
    /// silently) under its retention with readings of about 250 bytes, and still covers two
    /// checkpoint intervals at 20,000 readings/s (33,334 per partition). With a real Kafka set it
    /// to what the topic's retention holds comfortably, e.g. 5,000,000.
    /// </summary>
    public long MaxBrokerBacklog { get; init; } = 40_000;

    /// <summary>
    /// Readings the ingest ledger may hold (acknowledged, not yet consumed by the processor) before
    /// new batches are answered 503 with Retry-After: the last resort of a long processor outage.
    /// 10 M readings are 5.5 hours at 500 readings/s, about 1.5 GB of PostgreSQL.
    /// </summary>
    public long MaxLedgerBacklog { get; init; } = 10_000_000;

    /// <summary>Payload bytes of unpublished ledger rows the pump keeps in memory; beyond it rows are re-read from PostgreSQL by id.</summary>
    public long LedgerMemoryBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// The name under which this node's ledger rows are stored; on start the node publishes every row of
    /// its name again. Must be stable across restarts and unique per ingest node (default: host name and ingest port).
    /// </summary>
    public string? LedgerOwner { get; init; }

    /// <summary>How often the pump reads the broker's watermarks and the processor's committed offsets.</summary>
    public TimeSpan LedgerProbeInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The Retry-After of a 503 (ledger full or PostgreSQL unreachable).</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);

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

    /// <exception cref="InvalidOperationException">A value is out of range, or the open mode is asked for outside Development (fails start-up with the setting's name).</exception>
    public IngestionOptions Validate(bool development = true)
    {
        if (!RequireApiKey && !development)
            throw new InvalidOperationException($"{Section}:RequireApiKey may be false only in Development (ASPNETCORE_ENVIRONMENT=Development); give head-ends keys instead (POST /api/v1/admin/ingestion-keys)");
        if (MaxBatch < 1)
            throw new InvalidOperationException($"{Section}:MaxBatch must be at least 1 (is {MaxBatch})");
        if (MaxBodyBytes < 2)
            throw new InvalidOperationException($"{Section}:MaxBodyBytes must be at least 2 (is {MaxBodyBytes})");
        if (MaxBrokerBacklog < 1)
            throw new InvalidOperationException($"{Section}:MaxBrokerBacklog must be at least 1 (is {MaxBrokerBacklog})");
        if (MaxLedgerBacklog < MaxBatch)
            throw new InvalidOperationException($"{Section}:MaxLedgerBacklog must be at least MaxBatch ({MaxBatch}) (is {MaxLedgerBacklog})");
        if (LedgerMemoryBytes < 0)
            throw new InvalidOperationException($"{Section}:LedgerMemoryBytes must not be negative (is {LedgerMemoryBytes})");
        if (LedgerOwner is { } owner && string.IsNullOrWhiteSpace(owner))
            throw new InvalidOperationException($"{Section}:LedgerOwner must not be blank");
        if (LedgerProbeInterval <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:LedgerProbeInterval must be positive (is {LedgerProbeInterval})");
        if (RetryAfter < TimeSpan.FromSeconds(1))
            throw new InvalidOperationException($"{Section}:RetryAfter must be at least 1 second (is {RetryAfter})");
        if (UnknownMeterRecheck < TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:UnknownMeterRecheck must not be negative (is {UnknownMeterRecheck})");
        if (MaxClockSkew < TimeSpan.Zero || MaxClockSkew > MaxClockSkewLimit)
            throw new InvalidOperationException($"{Section}:MaxClockSkew must be between 0 and {MaxClockSkewLimit} (is {MaxClockSkew})");
        return this;
    }
}
