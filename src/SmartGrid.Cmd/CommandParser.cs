using System.CommandLine;
using System.CommandLine.Parsing;

namespace SmartGrid.Cmd;

/// <summary>What to send the node for one command: the route of its command endpoint.</summary>
internal sealed record NodeRequest(string Command, HttpMethod Method, string PathAndQuery, bool Streams = false);

/// <summary>What one command line asks for.</summary>
internal abstract record ParsedLine
{
    public sealed record Run(NodeRequest Request) : ParsedLine;
    public sealed record Help(string? Palette) : ParsedLine;
    /// <summary>No command: start the interactive prompt.</summary>
    public sealed record Interactive : ParsedLine;
    /// <summary>A line the tool cannot run; <paramref name="Command"/> is what it names, if anything.</summary>
    public sealed record Usage(string Message, string? Command = null) : ParsedLine;
}

/// <summary>
/// The command line, parsed by System.CommandLine into a request for the node. Unknown commands are
/// answered here, with the nearest known command, before anything goes over the network.
/// </summary>
internal sealed class CommandParser
{
    public const string DefaultHost = "127.0.0.1:9110";
    public const string HostVariable = "SMARTGRID_CMD_HOST";
    public const string TokenVariable = "SMARTGRID_CMD_TOKEN";

    private static readonly string[] ConnectionPrefixes = ["--host=", "--token=", "--output=", "-o="];
    private static readonly string[] HelpWords = ["help", "-h", "--help", "-?", "/?", "/h"];

    private readonly RootCommand _root = new("smartgrid-cmd: SRE commands for a SmartGrid.Actors node");
    private readonly Dictionary<Command, Func<ParseResult, NodeRequest>> _leaves = [];

    public Option<string> Host { get; } = new("--host")
    {
        Description = $"node command endpoint host:port (default {DefaultHost}, or ${HostVariable})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } h ? h : DefaultHost,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"the node's SmartGrid:Management:Token (or ${TokenVariable}, else the development run's {DevelopmentTokenFile})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } t ? t : DevelopmentToken(Environment.CurrentDirectory),
    };

    public Option<string> Output { get; } = new("--output", "-o")
    {
        Description = "table (for people) or json (one document per command, for scripts)",
        Recursive = true,
        DefaultValueFactory = _ => "table",
    };

    /// <summary>The development run's generated token (SmartGrid.Node's ManagementOptions.DevelopmentTokenFile), relative to a checkout.</summary>
    public const string DevelopmentTokenFile = ".data/management-token";

    /// <summary>The token in <see cref="DevelopmentTokenFile"/> of <paramref name="directory"/> or the nearest parent that has one.</summary>
    public static string? DevelopmentToken(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var file = Path.Combine(dir.FullName, DevelopmentTokenFile);
            if (File.Exists(file))
                return File.ReadAllText(file).Trim();
        }
        return null;
    }

    public CommandParser()
    {
        _root.Add(Host);
        _root.Add(Token);
        _root.Add(Output.AcceptOnlyFromAmong("table", "json"));

        var address = () => new Argument<string>("address") { Description = "akka.tcp://system@host:port, or host:port of a member" };
        var type = () => new Option<string>("-r", "--type") { Description = "shard type (e.g. meter, region)", Required = true };

        Palette("cluster",
            Leaf("show", [], _ => Get("cluster show", "cluster/show")),
            Leaf("leader", [], _ => Get("cluster leader", "cluster/leader")),
            Leaf("unreachable", [], _ => Get("cluster unreachable", "cluster/unreachable")),
            WithArgument("join", address(), (a, r) => Post("cluster join", $"cluster/join?address={Uri.EscapeDataString(r.GetValue(a)!)}")),
            WithArgument("leave", address(), (a, r) => Post("cluster leave", $"cluster/leave?address={Uri.EscapeDataString(r.GetValue(a)!)}")),
            WithArgument("down", address(), (a, r) => Post("cluster down", $"cluster/down?address={Uri.EscapeDataString(r.GetValue(a)!)}")),
            Leaf("down-unreachable", [], _ => Post("cluster down-unreachable", "cluster/down-unreachable")),
            Leaf("tail", [], _ => new NodeRequest("cluster tail", HttpMethod.Get, "cluster/tail", Streams: true)));

        var regionType = type();
        var shardType = type();
        Palette("cluster-sharding",
            Leaf("regions", [], _ => Get("cluster-sharding regions", "cluster-sharding/regions")),
            Leaf("region-stats", [regionType], r => Get("cluster-sharding region-stats", $"cluster-sharding/region-stats?r={Uri.EscapeDataString(r.GetValue(regionType)!)}")),
            Leaf("shard-stats", [shardType], r => Get("cluster-sharding shard-stats", $"cluster-sharding/shard-stats?r={Uri.EscapeDataString(r.GetValue(shardType)!)}")));

        var depth = new Option<int?>("-d", "--depth") { Description = "levels to show (1-10, default 3)" };
        var system = new Option<bool>("--system") { Description = "include /system (sharding, singletons' internals)" };
        Palette("actor", Leaf("hierarchy", [depth, system], r =>
            Get("actor hierarchy", $"actor/hierarchy?{(r.GetValue(depth) is { } d ? $"d={d}&" : "")}system={(r.GetValue(system) ? "true" : "false")}")));

        var lines = new Option<int?>("-n", "--lines") { Description = "how many lines (default 50)" };
        Palette("log", Leaf("peek", [lines], r => Get("log peek", r.GetValue(lines) is { } n ? $"log/peek?n={n}" : "log/peek")));
        Palette("node", Leaf("health", [], _ => Get("node health", "node/health")), Leaf("config", [], _ => Get("node config", "node/config")));
        Palette("kafka", Leaf("lag", [], _ => Get("kafka lag", "kafka/lag")));
        Palette("singleton", Leaf("show", [], _ => Get("singleton show", "singleton/show")));
    }

    /// <summary>The host and token in effect for <paramref name="args"/> (options, environment, defaults).</summary>
    public (string Host, string? Token) Connection(IReadOnlyList<string> args)
    {
        var result = _root.Parse(args);
        return (result.GetValue(Host) ?? DefaultHost, result.GetValue(Token));
    }

    /// <summary>
    /// The output format <paramref name="args"/> ask for, known even when the rest of the line is wrong, so a
    /// script that asked for JSON gets its usage error as JSON too; an unknown format is a usage error.
    /// </summary>
    public OutputFormat Format(IReadOnlyList<string> args)
    {
        var result = _root.Parse(args);
        if (result.Errors.Any(e => e.SymbolResult is OptionResult o && o.Option == Output))
        {
            var given = result.GetResult(Output)?.Tokens is [.., var last] ? last.Value : null;
            throw new CommandFailedException($"--output takes table or json, not '{given}'", ExitCodes.Usage);
        }
        return result.GetValue(Output) == "json" ? OutputFormat.Json : OutputFormat.Table;
    }

    public ParsedLine Parse(IReadOnlyList<string> args)
    {
        var words = Words(args);
        if (words.Count == 0) return args.Any(a => HelpWords.Contains(a)) ? new ParsedLine.Help(null) : new ParsedLine.Interactive();
        if (HelpWords.Contains(words[0])) return new ParsedLine.Help(words.Count > 1 ? words[1] : null);
        if (args.Any(a => HelpWords.Contains(a))) return new ParsedLine.Help(words[0]);

        var spec = words.Count > 1 ? CommandCatalog.Find(words[0], words[1]) : null;
        if (spec is null)
        {
            var typed = string.Join(' ', words.Take(2));
            var suggestion = CommandCatalog.Suggest(words);
            if (words.Count == 1 && CommandCatalog.Palettes.Contains(words[0]))
                return new ParsedLine.Usage($"'{words[0]}' needs a command: {string.Join(", ", CommandCatalog.All.Where(c => c.Palette == words[0]).Select(c => c.Name))}", typed);
            return new ParsedLine.Usage($"unknown command '{typed}'." + (suggestion is null ? " Type 'help' for the list." : $" Did you mean '{suggestion}'?"), typed);
        }

        var result = _root.Parse(args);
        if (result.Errors.Count > 0 || !_leaves.TryGetValue(result.CommandResult.Command, out var build))
            return new ParsedLine.Usage($"{spec.FullName}: {string.Join("; ", result.Errors.Select(e => e.Message.TrimEnd('.')))}. Usage: {spec.Usage}", spec.FullName);
        return new ParsedLine.Run(build(result));
    }

    /// <summary>The words of the command itself: everything but the connection and output options and their values.</summary>
    private static List<string> Words(IReadOnlyList<string> args)
    {
        var words = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] is "--host" or "--token" or "--output" or "-o") { i++; continue; }
            if (ConnectionPrefixes.Any(p => args[i].StartsWith(p, StringComparison.Ordinal))) continue;
            if (args[i].StartsWith('-')) break; // the command's own options follow its words
            words.Add(args[i]);
        }
        return words;
    }

    private void Palette(string name, params Command[] commands)
    {
        var palette = new Command(name, string.Join(", ", commands.Select(c => c.Name)));
        foreach (var c in commands) palette.Add(c);
        _root.Add(palette);
    }

    private Command Leaf(string name, Option[] options, Func<ParseResult, NodeRequest> build)
    {
        var command = new Command(name);
        foreach (var o in options) command.Add(o);
        _leaves[command] = build;
        return command;
    }

    private Command WithArgument(string name, Argument<string> argument, Func<Argument<string>, ParseResult, NodeRequest> build)
    {
        var command = new Command(name);
        command.Add(argument);
        _leaves[command] = r => build(argument, r);
        return command;
    }

    private static NodeRequest Get(string command, string path) => new(command, HttpMethod.Get, path);
    private static NodeRequest Post(string command, string path) => new(command, HttpMethod.Post, path);
}
