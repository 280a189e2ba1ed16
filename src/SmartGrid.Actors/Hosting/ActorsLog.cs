using Microsoft.Extensions.Logging;

namespace SmartGrid.Actors.Hosting;

/// <summary>The actor library's host-side log lines (actors log through Akka), source-generated.</summary>
internal static partial class ActorsLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Regions could not be loaded at start; retrying every {Interval}")]
    public static partial void RegionsNotLoaded(this ILogger log, Exception exception, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Regions could not be reloaded; using the ones loaded at {LoadedAt}")]
    public static partial void RegionsNotReloaded(this ILogger log, Exception exception, DateTimeOffset loadedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The grid's tree could not be loaded at start; retrying every {Interval}")]
    public static partial void GridLayoutNotLoaded(this ILogger log, Exception exception, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The grid's tree could not be reloaded; using the one loaded at {LoadedAt}")]
    public static partial void GridLayoutNotReloaded(this ILogger log, Exception exception, DateTimeOffset loadedAt);
}
