namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// A Kafka topic and the partitions it is created with. It converts to its name, so a producer, a consumer or a
/// setting takes it where it takes a topic name.
/// </summary>
public sealed record Topic(string Name, int Partitions)
{
    public static implicit operator string(Topic topic) => topic.Name;

    public override string ToString() => Name;
}

/// <summary>The seed's Kafka topics: the contract with the outside world.</summary>
public static class Topics
{
    public static readonly Topic RawReadings = new("raw_readings", 6);
    public static readonly Topic Aggregates1m = new("aggregates_1m", 3);
    public static readonly Topic Aggregates15m = new("aggregates_15m", 3);
    public static readonly Topic RegionalAggregates = new("regional_aggregates", 3);
    /// <summary>Each transformer's and feeder's load, 1-minute and 15-minute, published with its region's windows (issue 17).</summary>
    public static readonly Topic GridNodeAggregates = new("grid_node_aggregates", 3);
    public static readonly Topic Anomalies = new("anomalies", 3);
    public static readonly Topic TariffUpdates = new("tariff_updates", 3);
    public static readonly Topic Alerts = new("alerts", 3);
    public static readonly Topic TariffOverrides = new("tariff_overrides", 1);
    /// <summary>Records that could not be read, with the original key and a reason header.</summary>
    public static readonly Topic DeadLetters = new("dead_letters", 3);

    /// <summary>Name and partition count of every topic the platform uses (seed document), as a broker creates them.</summary>
    public static readonly IReadOnlyList<(string Name, int Partitions)> All =
    [
        .. new[] { RawReadings, Aggregates1m, Aggregates15m, RegionalAggregates, GridNodeAggregates, Anomalies, TariffUpdates, Alerts, TariffOverrides, DeadLetters }
            .Select(topic => (topic.Name, topic.Partitions)),
    ];
}
