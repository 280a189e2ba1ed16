using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Tariffs;
using static SmartGrid.Services.Common.MalformedRecordException;

namespace SmartGrid.Services.Common;

/// <summary>
/// What makes a message of the services' topics applicable. A message failing these checks could
/// never be applied, however often it is redelivered: it goes to the dead-letter topic instead of
/// blocking its partition.
/// </summary>
internal static class MessageValidation
{
    private const decimal MaxPricePerKwh = 1_000_000m;

    public static RegionalAggregateMessage Validated(this RegionalAggregateMessage m)
    {
        RequireLoadWindow(m.Region, m.WindowSize, m.WindowStart, m.LoadPercentage, "load_percentage", m.Revision);
        return m;
    }

    public static GridNodeAggregateMessage Validated(this GridNodeAggregateMessage m)
    {
        Require(!string.IsNullOrWhiteSpace(m.NodeId), "node_id", "is required");
        RequireLoadWindow(m.Region, m.WindowSize, m.WindowStart, m.LoadPercent, "load_percent", m.Revision);
        return m;
    }

    /// <summary>What a load window from the regional projection (a region's or a grid node's) needs to be applied.</summary>
    private static void RequireLoadWindow(string region, string windowSize, DateTimeOffset windowStart, double load, string loadField, int revision)
    {
        Require(!string.IsNullOrWhiteSpace(region), "region", "is required");
        Require(windowSize is "1m" or "15m", "window_size", $"must be 1m or 15m, not '{windowSize}'");
        Require(windowStart != default, "window_start", "is required");
        Require(double.IsFinite(load) && load >= 0, loadField, "must be a number >= 0");
        Require(revision >= 0, "revision", "must be >= 0");
    }

    public static Anomaly Validated(this Anomaly a)
    {
        Require(!string.IsNullOrWhiteSpace(a.MeterId), "meter_id", "is required");
        Require(!string.IsNullOrWhiteSpace(a.Region), "region", "is required");
        Require(a.Timestamp != default, "timestamp", "is required");
        Require(double.IsFinite(a.DeviationPercent), "deviation_percent", "must be a number");
        Require(double.IsFinite(a.BaselineKw) && double.IsFinite(a.ActualKw), "baseline_kw/actual_kw", "must be numbers");
        Require(Enum.IsDefined(a.Severity), "severity", "is not a severity");
        return a;
    }

    public static TariffOverrideMessage Validated(this TariffOverrideMessage m)
    {
        Require(!string.IsNullOrWhiteSpace(m.Region), "region", "is required");
        if (m.IsLift)
        {
            Require(m.OverrideId is not null, "override_id", "is required to lift an override");
            Require(!string.IsNullOrWhiteSpace(m.CreatedBy), "created_by", "is required");
            return m;
        }

        Require(m.Action is null || string.Equals(m.Action, "create", StringComparison.OrdinalIgnoreCase), "action",
            $"must be create or lift, not '{m.Action}'");
        var price = m.PricePerKwh ?? m.Price;
        Require((price is null) != (m.Percentage is null), "price_per_kwh/percentage", "exactly one of them is required");
        // The bounds of the tariffs columns (numeric(12,4), numeric(8,3)): beyond them the insert
        // would fail on every redelivery.
        Require(price is null or (>= 0 and <= MaxPricePerKwh), "price_per_kwh", $"must be between 0 and {MaxPricePerKwh}");
        Require(m.Percentage is null or (> -100 and <= 10_000), "percentage", "must be in (-100, 10000]");
        Require(!string.IsNullOrWhiteSpace(m.CreatedBy), "created_by", "is required");
        Require(m.ValidFrom != default && m.ValidTo > m.ValidFrom, "valid_to", "must be after valid_from");
        return m;
    }

    public static AlertEventMessage Validated(this AlertEventMessage e)
    {
        Require(!string.IsNullOrWhiteSpace(e.Event), "event", "is required");
        Require(e.Alert is not null, "alert", "is required");
        Require(!string.IsNullOrWhiteSpace(e.Alert!.Region), "alert.region", "is required");
        Require(Enum.IsDefined(e.Alert.Type), "alert.type", "is not an alert type");
        Require(Enum.IsDefined(e.Alert.Status), "alert.status", "is not an alert status");
        Require(!string.IsNullOrWhiteSpace(e.Alert.Severity), "alert.severity", "is required");
        return e;
    }

    public static TariffUpdateMessage Validated(this TariffUpdateMessage u)
    {
        Require(!string.IsNullOrWhiteSpace(u.Region), "region", "is required");
        Require(u.NewPrice >= 0, "new_price", "must be >= 0");
        Require(u.OldPrice is null or >= 0, "old_price", "must be >= 0");
        return u;
    }
}
