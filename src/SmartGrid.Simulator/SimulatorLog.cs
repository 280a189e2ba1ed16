using Microsoft.Extensions.Logging;

namespace SmartGrid.Simulator;

/// <summary>The simulator's log lines, source-generated so a disabled level costs no formatting or boxing.</summary>
internal static partial class SimulatorLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator disabled ({Section}:Enabled = false)")]
    public static partial void Disabled(this ILogger log, string section);

    [LoggerMessage(Level = LogLevel.Error, Message = "Simulator could not start")]
    public static partial void CouldNotStart(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator: {Registered} of {Meters} meters newly registered over {Regions} regions")]
    public static partial void Registered(this ILogger log, int registered, int meters, int regions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator: topology of {Transformers} transformers on {Feeders} feeders: {Placed} meters placed, {Unchanged} unchanged, {Refused} refused (moved by an operator since)")]
    public static partial void Placed(this ILogger log, int placed, int unchanged, int refused, int transformers, int feeders);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator: issued itself ingestion key {Prefix}… for this run")]
    public static partial void KeyIssued(this ILogger log, string prefix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulator: could not revoke its key {Prefix}…; revoke it with DELETE /api/v1/admin/ingestion-keys/{Id}")]
    public static partial void KeyNotRevoked(this ILogger log, Exception exception, string prefix, Guid id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator starting: {Meters} meters every {Interval}, speed {Speed}x, cap {Rate:0.#} readings/s, {Mode} to {Target}, seed {Seed}")]
    public static partial void Starting(this ILogger log, int meters, TimeSpan interval, double speed, double rate, SimulatorMode mode, string target, long seed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator finished: sent {Sent}, accepted {Accepted}, rejected {Rejected}, failed {Failed} in {Elapsed} ({Rate:0} readings/s)")]
    public static partial void Finished(this ILogger log, long sent, long accepted, long rejected, long failed, TimeSpan elapsed, double rate);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator stopped: sent {Sent}, accepted {Accepted}, rejected {Rejected}, failed {Failed}")]
    public static partial void Stopped(this ILogger log, long sent, long accepted, long rejected, long failed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Simulator failed")]
    public static partial void Failed(this ILogger log, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulator: sent {Sent}, accepted {Accepted}, rejected {Rejected}, failed {Failed}, {Rate:0} readings/s, event time {EventTime:yyyy-MM-ddTHH:mm:ssZ}")]
    public static partial void Progress(this ILogger log, long sent, long accepted, long rejected, long failed, double rate, DateTimeOffset? eventTime);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch of {Count} not delivered (attempt {Attempt}); retrying in {Backoff}")]
    public static partial void BatchRetried(this ILogger log, Exception exception, int count, int attempt, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch of {Count} readings lost after {Attempts} attempt(s)")]
    public static partial void BatchLost(this ILogger log, Exception exception, int count, int attempts);
}
