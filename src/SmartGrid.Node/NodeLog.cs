using System.Net;
using Microsoft.Extensions.Logging;

namespace SmartGrid.Node;

/// <summary>The node host's log lines, source-generated so a disabled level costs no formatting or boxing.</summary>
internal static partial class NodeLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "SmartGrid node starting: roles [{Roles}], Kafka {Kafka}")]
    public static partial void NodeStarting(this ILogger log, string roles, string? kafka);

    [LoggerMessage(Level = LogLevel.Information, Message = "SmartGrid node started {Seconds:F1} s after its process started")]
    public static partial void NodeStarted(this ILogger log, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "readings/s ingested {Ingested:F0} processed {Processed:F0} (duplicates {Duplicates:F0}); consumer lag {Lag}; windows published {Windows}, regional {Regional}, anomalies {Anomalies}, too late {TooLate}")]
    public static partial void Status(this ILogger log, double ingested, double processed, double duplicates, string lag, long windows, long regional, long anomalies, long tooLate);

    [LoggerMessage(Level = LogLevel.Debug, Message = "shard region {Type} did not report its state in time")]
    public static partial void ShardRegionSilent(this ILogger log, string type);

    // Management: the audit of every command, and the endpoint's own start.
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Who} ran 'cluster tail': refused (wrong or missing token)")]
    public static partial void TailRefused(this ILogger log, string who);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Who} ran 'cluster tail': streaming")]
    public static partial void TailStarted(this ILogger log, string who);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Who} ended 'cluster tail'")]
    public static partial void TailEnded(this ILogger log, string who);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Who} ran '{What}': refused (wrong or missing token)")]
    public static partial void CommandUnauthorized(this ILogger log, string who, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Who} ran '{What}': refused (no {Header} header)")]
    public static partial void CommandWithoutHeader(this ILogger log, string who, string what, string header);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Who} ran '{What}': ok in {Ms} ms ({Result})")]
    public static partial void CommandSucceeded(this ILogger log, string who, string what, long ms, string result);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Who} ran '{What}': {Status} {Detail}")]
    public static partial void CommandRefused(this ILogger log, string who, string what, int status, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Who} ran '{What}': timed out ({Error})")]
    public static partial void CommandTimedOut(this ILogger log, string who, string what, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Who} ran '{What}': failed")]
    public static partial void CommandFailed(this ILogger log, Exception exception, string who, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Management endpoint (smartgrid-cmd) NOT started: it needs a token; set SmartGrid:Management:Token or SmartGrid:Management:TokenFile")]
    public static partial void ManagementWithoutToken(this ILogger log);

    [LoggerMessage(Level = LogLevel.Information, Message = "Management endpoint (smartgrid-cmd) listening on {Address}:{Port}, token required{From}")]
    public static partial void ManagementListening(this ILogger log, IPAddress address, int port, string from);

    [LoggerMessage(Level = LogLevel.Error, Message = "Management endpoint NOT started on {Address}:{Port}: {Reason}; set SmartGrid:Management:Port to a free port")]
    public static partial void ManagementNotStarted(this ILogger log, IPAddress address, int port, string reason);
}
