namespace SmartGrid.Gateway.Http;

/// <summary>One page of a list answer (limit / offset paging, with the total).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, long Total, int Limit, int Offset);
