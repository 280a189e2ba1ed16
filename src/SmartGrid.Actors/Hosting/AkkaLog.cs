using Akka.Actor;
using Akka.Event;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// Akka's log into the host's <see cref="ILogger"/>s with one timestamp a line. Akka.Hosting's bridge writes
/// each event as Akka prints it on its own ("[INFO][12/06/2026 22:43:01.632Z][Thread 0007][remoting
/// (akka://smartgrid)] Starting remoting"), so behind the console's timestamp, and log peek's, every Akka line
/// carried a second one in another format. Here the text is "[source] message" and the category the
/// logging class (Akka.Cluster.Cluster), so Logging:LogLevel can tune Akka by namespace.
/// </summary>
public sealed class AkkaLog : LoggerFactoryLogger
{
    private readonly ILoggerFactory _factory = Context.System.Settings.Setup.Get<LoggerFactorySetup>().Value.LoggerFactory;
    private readonly Dictionary<Type, ILogger> _loggers = [];

    protected override void Log(LogEvent log, ActorPath path)
    {
        var type = log.LogClass ?? typeof(ActorSystem);
        if (!_loggers.TryGetValue(type, out var logger)) _loggers[type] = logger = _factory.CreateLogger(type.FullName ?? type.Name);
        var level = Level(log.LogLevel());
        if (logger.IsEnabled(level))
            logger.Log(level, default, log, log.Cause, static (e, _) => $"[{e.LogSource}] {e.Message}");
    }

    private static Microsoft.Extensions.Logging.LogLevel Level(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
        _ => Microsoft.Extensions.Logging.LogLevel.Error,
    };
}
