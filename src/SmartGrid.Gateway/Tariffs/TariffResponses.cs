using SmartGrid.Storage.Tariffs;

namespace SmartGrid.Gateway.Tariffs;

/// <summary>The price in force in the region of the caller's meter; source says whether Redis or PostgreSQL answered.</summary>
public sealed record CurrentTariffView(
    string MeterId, string Region, decimal PricePerKwh, DateTimeOffset EffectiveFrom, string Reason, Guid TariffId, string Source);

/// <summary>One page of the price changes in the region of the caller's meter (region null when the meter has none yet).</summary>
public sealed record TariffHistoryPage(
    string MeterId, string? Region, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TariffHistoryEntry> Items, long Total, int Limit, int Offset);

/// <summary>One page of an operated region's price changes, for the operator's price history chart.</summary>
public sealed record RegionTariffHistoryPage(
    string Region, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TariffHistoryEntry> Items, long Total, int Limit, int Offset);
