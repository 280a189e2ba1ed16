namespace SmartGrid.Domain.Telemetry;

/// <summary>The seed's Kafka topics: the contract with the outside world.</summary>
public static class Topics
{
    public const string RawReadings = "raw_readings";
    public const string Aggregates1m = "aggregates_1m";
    public const string Aggregates15m = "aggregates_15m";
    public const string RegionalAggregates = "regional_aggregates";
    /// <summary>Each transformer's and feeder's load, 1-minute and 15-minute, published with its region's windows (issue 17).</summary>
    public const string GridNodeAggregates = "grid_node_aggregates";
    public const string Anomalies = "anomalies";
    public const string TariffUpdates = "tariff_updates";
    public const string Alerts = "alerts";
    public const string TariffOverrides = "tariff_overrides";
    /// <summary>Records that could not be read, with the original key and a reason header.</summary>
    public const string DeadLetters = "dead_letters";

    /// <summary>Name and partition count of every topic the platform uses (seed document).</summary>
    public static readonly IReadOnlyList<(string Name, int Partitions)> All =
    [
        (RawReadings, 6), (Aggregates1m, 3), (Aggregates15m, 3), (RegionalAggregates, 3), (GridNodeAggregates, 3),
        (Anomalies, 3), (TariffUpdates, 3), (Alerts, 3), (TariffOverrides, 1), (DeadLetters, 3),
    ];
}
