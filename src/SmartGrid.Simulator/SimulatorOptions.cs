using SmartGrid.Domain.Grid;

namespace SmartGrid.Simulator;

public enum SimulatorMode
{
    /// <summary>POST batches to the ingestion endpoint, like the seed's simulator.</summary>
    Http = 0,

    /// <summary>Publish straight to Kafka raw_readings, bypassing ingestion (no validation, no ingested_at).</summary>
    Kafka = 1,
}

/// <summary>
/// Settings of the simulator (role <c>simulator</c>), bound from <see cref="Section"/>.
/// <para>
/// Event time and wall time: the fleet produces one reading per meter every <see cref="Interval"/>
/// of event time, and <see cref="Speed"/> compresses event time (60: one hour of readings per wall
/// minute). Whatever the speed, a reading is never sent before the wall clock has reached its
/// timestamp, so ingestion's bound on readings from the future (MaxClockSkew) always holds. With Speed &gt; 1
/// the stream therefore has to start in the past to run faster than real time: by default it
/// starts <see cref="Duration"/> ago (at most <see cref="MaxLookback"/>, just inside ingestion's
/// 7-day limit), runs compressed until it reaches the present and then continues in real time.
/// Every reading thus stays within [now - 7 days, now].
/// </para>
/// </summary>
public sealed record SimulatorOptions
{
    public const string Section = "SmartGrid:Simulator";

    /// <summary>How far back a compressed (Speed &gt; 1) stream starts at most: ingestion rejects readings older than 7 days.</summary>
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(7) - TimeSpan.FromHours(1);

    /// <summary>False keeps the service idle even on a node with the simulator role.</summary>
    public bool Enabled { get; init; } = true;

    public int Meters { get; init; } = 5_000;

    /// <summary>Same seed (and start), same fleet and same readings.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Event time between two readings of a meter.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Event time per wall time: 1 is real time, 60 is an hour per minute.</summary>
    public double Speed { get; init; } = 1;

    /// <summary>Cap in readings per second; null means the fleet's own rate (Meters / Interval × Speed), 0 or less means no cap.</summary>
    public double? Rate { get; init; }

    /// <summary>Event time to simulate before stopping (the readings of [start, start + Duration)); null runs until stopped.</summary>
    public TimeSpan? Duration { get; init; }

    public int BatchSize { get; init; } = 500;

    public SimulatorMode Mode { get; init; } = SimulatorMode.Http;

    /// <summary>
    /// The ingestion endpoint (Http mode). Null: <c>AddSimulator</c> derives it from the node's
    /// SmartGrid:Http settings; without a node, <see cref="DefaultIngestUrl"/>.
    /// </summary>
    public string? IngestUrl { get; init; }

    public const string DefaultIngestUrl = "http://127.0.0.1:3001/telemetry/batch";

    public Uri EffectiveIngestUrl => new(IngestUrl ?? DefaultIngestUrl, UriKind.Absolute);

    /// <summary>Event time of the first reading (floored to the interval). Default: now at Speed ≤ 1, see the type's remarks otherwise.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>Batches awaiting their answer at once.</summary>
    public int MaxInFlight { get; init; } = 4;

    /// <summary>Tries per batch when the sink fails (connection refused, 503); then its readings are counted as failed.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>
    /// Ingestion API key for Http mode. Unset, a simulator inside a node issues itself a key for
    /// the run (every region, no provisioning: it registers its fleet itself) and revokes it when it stops.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>Regions the meters are dealt over; null takes the active regions of the node's regions table.</summary>
    public IReadOnlyList<RegionSpec>? Regions { get; init; }

    /// <summary>Readings per second the pacing allows, or +∞ when there is no cap.</summary>
    public double EffectiveRate => Rate switch
    {
        null => Meters / Interval.TotalSeconds * Speed,
        <= 0 => double.PositiveInfinity,
        { } rate => rate,
    };

    /// <summary>The event time the stream starts at when it starts at <paramref name="now"/>.</summary>
    public DateTimeOffset ResolveStart(DateTimeOffset now)
    {
        if (StartAt is { } start)
            return start;
        if (Speed <= 1)
            return now;
        var lookback = Duration is { } duration && duration < MaxLookback ? duration : MaxLookback;
        return now - lookback;
    }

    /// <exception cref="InvalidOperationException">A value is out of range (names the setting).</exception>
    public SimulatorOptions Validate()
    {
        static void Require(bool condition, string message)
        {
            if (!condition) throw new InvalidOperationException($"{Section}:{message}");
        }

        Require(Meters is >= 1 and <= 99_999_999, $"Meters must be 1 to 99,999,999 (is {Meters})");
        Require(Interval >= TimeSpan.FromSeconds(1) && Interval <= TimeSpan.FromHours(1), $"Interval must be 1 s to 1 h (is {Interval})");
        Require(Speed > 0 && !double.IsNaN(Speed), $"Speed must be positive (is {Speed})");
        Require(Rate is null || !double.IsNaN(Rate.Value), "Rate must be a number");
        Require(Duration is null || Duration > TimeSpan.Zero, $"Duration must be positive (is {Duration})");
        Require(BatchSize >= 1, $"BatchSize must be at least 1 (is {BatchSize})");
        Require(MaxInFlight >= 1, $"MaxInFlight must be at least 1 (is {MaxInFlight})");
        Require(MaxAttempts >= 1, $"MaxAttempts must be at least 1 (is {MaxAttempts})");
        Require(Enum.IsDefined(Mode), $"Mode must be Http or Kafka (is {Mode})");
        Require(Mode != SimulatorMode.Http || Uri.TryCreate(IngestUrl ?? DefaultIngestUrl, UriKind.Absolute, out _), $"IngestUrl '{IngestUrl}' is not an absolute URL");
        return this;
    }
}
