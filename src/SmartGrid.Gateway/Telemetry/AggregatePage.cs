using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage;

namespace SmartGrid.Gateway.Telemetry;

/// <summary>
/// One page of a meter's windows. Cursor paging on time: <c>next_from</c> is the <c>from</c> of
/// the next page (null on the last), so pages stay stable while new windows arrive.
/// </summary>
public sealed record AggregatePage(
    string MeterId, string Resolution, DateTimeOffset From, DateTimeOffset To, int Limit, IReadOnlyList<WindowAggregate> Items, DateTimeOffset? NextFrom);

internal static class AggregatePaging
{
    public static async Task<AggregatePage> ReadAsync(AggregateQueries queries, string meterId, WindowSize size,
        DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken ct)
    {
        var rows = await queries.GetMeterAggregatesAsync(meterId, size, from, to, limit + 1, ct);
        var next = rows.Count > limit ? rows[limit].WindowStart : (DateTimeOffset?)null;
        return new AggregatePage(meterId, size.ToWireName(), from, to, limit, rows.Take(limit).ToArray(), next);
    }

    /// <summary>from, to, resolution and limit of an aggregate query; the default span is the last day.</summary>
    public static (DateTimeOffset From, DateTimeOffset To, WindowSize Size, int Limit) Read(QueryReader query, GatewayOptions options,
        DateTimeOffset now, WindowSize defaultSize)
    {
        var (from, to) = query.Range(now, TimeSpan.FromDays(1), options.MaxQueryRange);
        var size = query.Resolution(defaultSize);
        var limit = query.Int("limit", options.DefaultPageSize, 1, options.MaxPageSize);
        return (from, to, size, limit);
    }
}
