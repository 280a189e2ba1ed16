using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Contracts;

/// <summary>
/// Settings of the grid services of one node, bound from <see cref="Section"/> and validated by SmartGrid.Services. They
/// sit with the contracts because the gateway reads what they name: the Redis keys and tariff tiers the managers
/// write with, and the topic it sends tariff overrides to.
/// </summary>
public sealed record GridServicesOptions
{
    public const string Section = "SmartGrid:Services";

    public TariffSettings Tariffs { get; init; } = new();
    public AlertSettings Alerts { get; init; } = new();
    // A fresh instance, not RedisKeyspace.Default: the binder writes into the instance it is given.
    public RedisKeyspace Redis { get; init; } = new();

    /// <summary>
    /// Where the managers' consumers (tariffs, alerts, notifications) send records that are not valid messages of
    /// their topic; null: each consumer's own, <see cref="ConsumerOptions.DeadLetterTopic"/> (the seed's dead_letters).
    /// </summary>
    public string? DeadLetterTopic { get; init; }

    /// <summary>The TariffManager's settings on a node whose Kafka is <paramref name="kafkaBootstrap"/>.</summary>
    public TariffSettings TariffsFor(string? kafkaBootstrap) => Tariffs with { Consumer = ConsumerFor(Tariffs.Consumer, kafkaBootstrap) };

    /// <summary>The AlertManager's settings on a node whose Kafka is <paramref name="kafkaBootstrap"/>.</summary>
    public AlertSettings AlertsFor(string? kafkaBootstrap) => Alerts with { Consumer = ConsumerFor(Alerts.Consumer, kafkaBootstrap) };

    /// <summary>A manager's consumer on a node whose Kafka is <paramref name="kafkaBootstrap"/>, with this node's dead-letter topic.</summary>
    public ConsumerOptions ConsumerFor(ConsumerOptions consumer, string? kafkaBootstrap) =>
        consumer with { BootstrapServers = kafkaBootstrap, DeadLetterTopic = DeadLetterTopic ?? consumer.DeadLetterTopic };
}

/// <summary>Where the grid services keep their Redis keys: a prefix and database number let tests share one server.</summary>
public sealed record RedisKeyspace(string Prefix = "", int Database = -1)
{
    public static RedisKeyspace Default { get; } = new();

    public string Tariff(string region) => $"{Prefix}tariff:{region}";
    public string Overload(string region) => $"{Prefix}region:overload:{region}";
    public string AlertCount(string region) => $"{Prefix}alerts:count:{region}";
    public string NotificationRate(Guid user, string channel) => $"{Prefix}notify:rate:{user}:{channel}";
}

/// <summary>How a manager reads Kafka: topics default to the seed's names; tests use their own.</summary>
public sealed record ConsumerOptions
{
    /// <summary>Bootstrap servers; null runs the manager without a Kafka consumer (records are sent to it directly).</summary>
    public string? BootstrapServers { get; init; }
    public required string GroupId { get; init; }
    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>How long one record may take to become durable before the stream fails and restarts.</summary>
    public TimeSpan ProcessTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause before a failed consumer stream (database or broker down) is started again.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Where records that are not valid messages of their topic go (logged with their key); null: logged and skipped.</summary>
    public string? DeadLetterTopic { get; init; } = SmartGrid.Domain.Telemetry.Topics.DeadLetters;

    /// <summary>Extra librdkafka consumer properties (tests shorten heartbeats).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

/// <summary>Settings of the TariffManager.</summary>
public sealed record TariffSettings
{
    public const string GroupId = "tariff-service-group";

    /// <summary>The load tiers, lowest first (SmartGrid:Services:Tariffs:Tiers); null: the seed's table, <see cref="TariffTiers.Default"/>.</summary>
    public IReadOnlyList<TariffTier>? Tiers { get; init; }

    /// <summary>The tiers as the price table the TariffManager and the grid overview price with.</summary>
    public TariffTiers Pricing => Tiers is null ? TariffTiers.Default : new TariffTiers(Tiers);

    /// <summary>A change is published only when it moves the price by more than this many percent.</summary>
    public decimal PublishThresholdPercent { get; init; } = TariffTiers.DefaultPublishThresholdPercent;

    /// <summary>Base rate of a region that has no base row in tariffs yet (a row is written on first use).</summary>
    public decimal DefaultBasePricePerKwh { get; init; } = 8.00m;

    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How often overrides that started, expired or were lifted are applied.</summary>
    public TimeSpan OverrideCheckInterval { get; init; } = TimeSpan.FromSeconds(15);

    public string TariffUpdatesTopic { get; init; } = Topics.TariffUpdates;

    public ConsumerOptions Consumer { get; init; } = new()
    {
        GroupId = GroupId,
        Topics = [Topics.RegionalAggregates, Topics.TariffOverrides],
    };

    public string RegionalTopic => Consumer.Topics[0];
    public string OverridesTopic => Consumer.Topics[1];
}

/// <summary>Settings of the AlertManager.</summary>
public sealed record AlertSettings
{
    public const string GroupId = "alert-service-group";

    /// <summary>
    /// The overload rule, bound as it is (Alerts:Overload:ThresholdPercent, WindowsRequired, Span): its names and defaults are the
    /// domain's. A fresh instance, not <see cref="OverloadRuleOptions.Default"/>: the binder writes into the instance it finds.
    /// </summary>
    public OverloadRuleOptions Overload { get; init; } = new();

    /// <summary>Hysteresis: an overload ends (its alert resolves itself) once the load stayed under this many percent…</summary>
    public double OverloadClearPercent { get; init; } = 80;

    /// <summary>…for this many consecutive 1-minute windows.</summary>
    public int OverloadClearWindows { get; init; } = 3;

    /// <summary>An ANOMALY resolves itself once its meter reported this many 1-minute windows within its baseline band.</summary>
    public int AnomalyClearWindows { get; init; } = 3;

    /// <summary>A silent meter raises an OUTAGE only if it reported at least this many 1-minute windows within <see cref="OutageLookback"/>.</summary>
    public int OutageCadenceWindows { get; init; } = 5;

    /// <summary>Storm mode: more than this share of a region's registered meters silent or dropping together is one INCIDENT.</summary>
    public double StormShare { get; init; } = 0.1;

    /// <summary>"Together": their troubles began within this span of each other.</summary>
    public TimeSpan StormSpan { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A load at or above this makes an overload alert critical instead of high.</summary>
    public double CriticalLoadPercent { get; init; } = 100;

    /// <summary>
    /// A meter (or region) is in OUTAGE once it has been silent while the rest of its region (or of
    /// the grid) kept reporting for this long: measured in minutes of regional data, not wall clock.
    /// </summary>
    public TimeSpan OutageSilence { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often silent meters and regions are looked for (and outages of those reporting again resolved).</summary>
    public TimeSpan OutageCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>POWER_QUALITY: a meter's EN 50160 compliance is judged over this period of 10-minute means (EN 50160: a week)…</summary>
    public TimeSpan PowerQualityPeriod { get; init; } = TimeSpan.FromDays(7);

    /// <summary>…once it has at least this many of them (144: a day), so a meter heard for an hour is not judged on it.</summary>
    public int PowerQualityMinimumWindows { get; init; } = 144;

    /// <summary>How often compliance and swells are looked at (the compliance query reads the period's voltage_10m).</summary>
    public TimeSpan PowerQualityCheckInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>SWELL: swells that started within this long (wall clock) raise; an open SWELL without one for this long resolves.</summary>
    public TimeSpan SwellQuiet { get; init; } = TimeSpan.FromHours(1);

    public PowerQualityAlertPolicy PowerQuality => new(PowerQualityPeriod, PowerQualityMinimumWindows, SwellQuiet);

    /// <summary>Meters and regions last heard of longer ago than this (wall clock) are retired, not in outage.</summary>
    public TimeSpan OutageLookback { get; init; } = TimeSpan.FromHours(24);

    public TimeSpan OverloadKeyTtl { get; init; } = TimeSpan.FromMinutes(30);
    public TimeSpan AlertCountTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long an applied anomaly is remembered against redelivery.</summary>
    public TimeSpan SourceEventRetention { get; init; } = TimeSpan.FromDays(7);

    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(10);

    public string AlertsTopic { get; init; } = Topics.Alerts;

    public ConsumerOptions Consumer { get; init; } = new()
    {
        GroupId = GroupId,
        Topics = [Topics.RegionalAggregates, Topics.Anomalies, Topics.GridNodeAggregates],
    };

    public string RegionalTopic => Consumer.Topics[0];
    public string AnomaliesTopic => Consumer.Topics[1];
    /// <summary>Transformers' and feeders' loads (issue 17); a consumer configured with two topics reads none.</summary>
    public string? GridNodeTopic => Consumer.Topics.Count > 2 ? Consumer.Topics[2] : null;
}
