using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SmartGrid.Contracts.Management;
using SmartGrid.Node.Health;

namespace SmartGrid.Node.Management;

/// <summary>The <c>node</c>, <c>log</c> and <c>actor</c> palettes: this node's health, configuration, recent log and actors.</summary>
public sealed class NodeCommands(ActorSystem system, HealthCheckService health, IConfiguration configuration, LogRingBuffer log)
{
    public const int MaxDepth = 10;
    public const int MaxPeek = LogRingBuffer.DefaultCapacity;
    /// <summary>Sections of the effective configuration that are the node's own (the rest is the process environment).</summary>
    private static readonly string[] Sections = ["ConnectionStrings", "SmartGrid", "Logging", "Kestrel", "Akka"];
    /// <summary>Beyond this many children (thousands of meters), the hierarchy lists the first ones and counts the rest.</summary>
    private const int MaxChildrenShown = 20;

    public async Task<CommandOutput> HealthAsync(CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(c => c.Tags.Contains(NodeHealth.ReadyTag), ct);
        var table = new TableBuilder("health", "check", "status", "description", "ms");
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            table.Row(name, entry.Status, entry.Description, Math.Round(entry.Duration.TotalMilliseconds));
        return CommandOutput.Of(table.Build()).With($"node is {report.Status}");
    }

    public CommandOutput Config()
    {
        var table = new TableBuilder("configuration", "key", "value");
        foreach (var section in Sections)
        foreach (var (key, value) in configuration.GetSection(section).AsEnumerable().Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
            table.Row(key, SecretMasker.MaskValue(key, value));
        var akka = system.Settings.Config;
        foreach (var key in new[] { "akka.cluster.roles", "akka.cluster.seed-nodes", "akka.cluster.downing-provider-class", "akka.cluster.split-brain-resolver.active-strategy", "akka.remote.dot-netty.tcp.hostname", "akka.remote.dot-netty.tcp.port" })
            if (akka.HasPath(key)) table.Row(key, akka.GetValue(key).ToString());
        return CommandOutput.Of(table.Build());
    }

    public CommandOutput Peek(int? n)
    {
        var count = n ?? 50;
        if (count is < 1 or > MaxPeek) throw CommandException.BadInput("n", $"n must be between 1 and {MaxPeek}");
        var lines = log.Last(count);
        return new CommandOutput([], lines.Count == 0 ? ["(log is empty)"] : lines);
    }

    public CommandOutput Hierarchy(int? depth, bool includeSystem)
    {
        var max = depth ?? 3;
        if (max is < 1 or > MaxDepth) throw CommandException.BadInput("d", $"d must be between 1 and {MaxDepth}");
        var ext = (ExtendedActorSystem)system;
        var lines = new List<string>();
        Walk(ext.Guardian, 0);
        if (includeSystem) Walk(ext.SystemGuardian, 0);
        return new CommandOutput([], lines);

        void Walk(IActorRef actor, int level)
        {
            var children = actor is ActorRefWithCell cell ? cell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal).ToList() : [];
            lines.Add($"{new string(' ', level * 2)}{(level == 0 ? actor.Path.ToStringWithoutAddress() : actor.Path.Name)}{(children.Count > 0 && level + 1 >= max ? $" ({children.Count} children)" : "")}");
            if (level + 1 >= max) return;
            foreach (var child in children.Take(MaxChildrenShown)) Walk(child, level + 1);
            if (children.Count > MaxChildrenShown) lines.Add($"{new string(' ', (level + 1) * 2)}... {children.Count - MaxChildrenShown} more");
        }
    }
}
