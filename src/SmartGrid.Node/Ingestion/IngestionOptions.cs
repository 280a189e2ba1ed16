namespace SmartGrid.Node.Ingestion;

/// <summary>
/// Limits and policy of <c>POST /telemetry/batch</c>, bound from <see cref="Section"/>.
/// The defaults fit the seed's simulator (batches of 500) with a tenfold margin.
/// </summary>
public sealed record IngestionOptions
{
    public const string Section = "SmartGrid:Ingestion";

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
    /// How long a request waits for Kafka to acknowledge its readings before it answers 503.
    /// Records still in the producer may be delivered later; the client's retry is then a
    /// duplicate, which the pipeline drops (meter_id + timestamp identify a reading).
    /// </summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>With <see cref="RequireRegisteredMeters"/>: how long a meter found unregistered is not looked up again.</summary>
    public TimeSpan UnknownMeterRecheck { get; init; } = TimeSpan.FromSeconds(5);

    /// <exception cref="InvalidOperationException">A value is out of range, or the open mode is asked for outside Development (fails start-up with the setting's name).</exception>
    public IngestionOptions Validate(bool development = true)
    {
        if (!RequireApiKey && !development)
            throw new InvalidOperationException($"{Section}:RequireApiKey may be false only in Development (ASPNETCORE_ENVIRONMENT=Development); give head-ends keys instead (POST /api/v1/admin/ingestion-keys)");
        if (MaxBatch < 1)
            throw new InvalidOperationException($"{Section}:MaxBatch must be at least 1 (is {MaxBatch})");
        if (MaxBodyBytes < 2)
            throw new InvalidOperationException($"{Section}:MaxBodyBytes must be at least 2 (is {MaxBodyBytes})");
        if (AckTimeout <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:AckTimeout must be positive (is {AckTimeout})");
        if (UnknownMeterRecheck < TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:UnknownMeterRecheck must not be negative (is {UnknownMeterRecheck})");
        return this;
    }
}
