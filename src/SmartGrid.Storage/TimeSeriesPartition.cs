namespace SmartGrid.Storage;

/// <summary>One native daily partition: rows with <see cref="From"/> &lt;= time &lt; <see cref="To"/> (UTC).</summary>
public sealed record TimeSeriesPartition(string Table, string Name, DateTimeOffset From, DateTimeOffset To);
