using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using SmartGrid.Node;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway;
using SmartGrid.Ingestion;
using SmartGrid.Node.Management;
using SmartGrid.Node.Metrics;
using SmartGrid.Simulator;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace SmartGrid.Integration.Tests.Metrics;

/// <summary>
/// docker/ stays in step with the code no Docker engine runs here: the topics kafka-init creates
/// are the seed's (Topics.All), the nodes' configuration keys bind to real options, Prometheus
/// scrapes every node on the port the node serves /metrics on, and every node's command endpoint
/// starts (off loopback only with a token long enough) and can be reached by smartgrid-cmd.
/// </summary>
public sealed partial class DeploymentFilesSpecs
{
    private static readonly string Docker = Path.Combine(Path.GetDirectoryName(Dashboards.Folder())!, "..");
    private static readonly string Compose = File.ReadAllText(Path.Combine(Docker, "docker-compose.yml"));

    [Fact]
    public void Should_create_exactly_the_seed_topics_with_their_partitions()
    {
        var created = new Dictionary<string, int>();
        foreach (Match m in SingleTopic().Matches(Compose))
            created[m.Groups["topic"].Value] = int.Parse(m.Groups["partitions"].Value);
        var loop = TopicLoop().Match(Compose);
        Assert.True(loop.Success, "kafka-init's loop over the 3-partition topics not found");
        foreach (var topic in loop.Groups["topics"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            created[topic] = int.Parse(loop.Groups["partitions"].Value);

        Assert.Equal(Topics.All.OrderBy(t => t.Name).Select(t => $"{t.Name}:{t.Partitions}"),
            created.OrderBy(t => t.Key).Select(t => $"{t.Key}:{t.Value}"));
    }

    [Fact]
    public void Should_configure_nodes_with_keys_the_options_bind()
    {
        var keys = EnvKey().Matches(Compose).Select(m => m.Groups["key"].Value).Distinct().ToList();
        Assert.Contains("SmartGrid__Kafka__BootstrapServers", keys);
        // Sections bound to an options type here; Notifications are read by the services.
        var sections = new Dictionary<string, Type>
        {
            ["Gateway"] = typeof(GatewayOptions),
            ["Simulator"] = typeof(SimulatorOptions),
            ["Ingestion"] = typeof(IngestionOptions),
            ["Management"] = typeof(ManagementOptions),
            ["Metrics"] = typeof(MetricsOptions),
        };
        var checkedKeys = 0;
        foreach (var key in keys)
        {
            var path = key.Split("__");
            if (path[1] is "Notifications") continue;
            var (type, rest) = sections.TryGetValue(path[1], out var t) ? (t, path[2..]) : (typeof(SmartGridOptions), path[1..]);
            foreach (var segment in rest)
            {
                if (int.TryParse(segment, out _))
                {
                    Assert.True(type.IsGenericType, $"{key}: {segment} indexes {type.Name}, which is not a list");
                    type = type.GetGenericArguments()[0];
                    continue;
                }
                var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance);
                Assert.True(property is { CanWrite: true }, $"{key}: {type.Name} has no settable property {segment}");
                type = property!.PropertyType;
            }
            checkedKeys++;
        }
        Assert.True(checkedKeys >= 10, $"only {checkedKeys} keys checked");
    }

    [Fact]
    public void Should_scrape_every_node_on_its_management_port_every_15_seconds()
    {
        var prometheus = File.ReadAllText(Path.Combine(Docker, "prometheus", "prometheus.yml"));
        Assert.Matches(@"scrape_interval:\s*15s", prometheus);
        var port = Regex.Match(Compose, @"SmartGrid__Http__ManagementPort:\s*""(\d+)""").Groups[1].Value;
        Assert.NotEmpty(port);
        var nodes = NodeService().Matches(Compose).Select(m => m.Groups["name"].Value).ToList();
        Assert.Equal(3, nodes.Count);
        Assert.All(nodes, n => Assert.Contains($"\"{n}:{port}\"", prometheus));

        // Over the compose network /metrics needs the scrape token: Prometheus sends the nodes' own.
        var file = Regex.Match(prometheus, @"authorization:\s*type:\s*Bearer\s*credentials_file:\s*(\S+)").Groups[1].Value;
        Assert.NotEmpty(file);
        var prometheusService = Service("prometheus");
        var entrypoint = string.Join(" ", ((List<object>)prometheusService["entrypoint"]).Cast<string>());
        Assert.Contains($"\"$$SMARTGRID_SCRAPE_TOKEN\" > {file}", entrypoint);
        var scrapeEnv = (string)((Dictionary<object, object>)prometheusService["environment"])["SMARTGRID_SCRAPE_TOKEN"];
        foreach (var (node, env) in NodeEnvironments())
        {
            var options = Configuration(env).GetSection(MetricsOptions.Section).Get<MetricsOptions>()!.Validate();
            Assert.False(string.IsNullOrWhiteSpace(options.ScrapeToken), $"{node}: no scrape token");
            Assert.Equal(((Dictionary<object, object>)Service(node)["environment"])["SmartGrid__Metrics__ScrapeToken"], scrapeEnv);
        }
    }

    [Fact]
    public void Should_open_every_node_s_command_endpoint_with_a_token_from_env()
    {
        var nodes = NodeEnvironments();
        Assert.Equal(3, nodes.Count);
        foreach (var (node, env) in nodes)
        {
            // Bound as the node binds it (ManagementHosting), from the values compose substitutes.
            var options = Configuration(env).GetSection(ManagementOptions.Section).Get<ManagementOptions>();
            Assert.NotNull(options);
            Assert.True(options!.Enabled, $"{node}: command endpoint disabled");
            var address = options.Validate();   // what the node runs at start-up: throws rather than start open
            if (!IPAddress.IsLoopback(address))
            {
                Assert.False(string.IsNullOrWhiteSpace(options.Token), $"{node}: binds {address} without a token");
                Assert.True(options.Token!.Trim().Length >= ManagementOptions.MinTokenLength,
                    $"{node}: token shorter than {ManagementOptions.MinTokenLength} characters");
            }
            // smartgrid-cmd inside the container finds the endpoint and the token in its environment
            // (SmartGrid.Cmd's CommandParser.HostVariable / TokenVariable).
            Assert.Equal($"127.0.0.1:{options.Port}", env.GetValueOrDefault("SMARTGRID_CMD_HOST"));
            Assert.Equal(options.Token, env.GetValueOrDefault("SMARTGRID_CMD_TOKEN"));
            // And from the host: published on loopback only.
            Assert.Contains(Ports(node), p => Regex.IsMatch(p, $@"^127\.0\.0\.1:\d+:{options.Port}$"));
        }

        // The check bites: the same node without its token or with a short one would not start.
        var (_, first) = nodes.First();
        Assert.Throws<InvalidOperationException>(() =>
            Configuration(first.Where(kv => kv.Key != "SmartGrid__Management__Token"))
                .GetSection(ManagementOptions.Section).Get<ManagementOptions>()!.Validate());
        Assert.Throws<InvalidOperationException>(() =>
            Configuration(first.Select(kv => kv.Key == "SmartGrid__Management__Token" ? new(kv.Key, "too-short") : kv))
                .GetSection(ManagementOptions.Section).Get<ManagementOptions>()!.Validate());
    }

    /// <summary>docker-compose.yml as compose reads it: anchors and merge keys resolved.</summary>
    private static Dictionary<object, object> ComposeFile() =>
        new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(new StringReader(Compose))));

    private static Dictionary<object, object> Service(string name) =>
        (Dictionary<object, object>)((Dictionary<object, object>)ComposeFile()["services"])[name];

    private static List<string> Ports(string service) =>
        Service(service).TryGetValue("ports", out var ports) ? ((List<object>)ports).Select(p => (string)p).ToList() : [];

    /// <summary>Each node service's environment with ${VAR}, ${VAR:?message} and ${VAR:-default} taken from docker/.env.</summary>
    private static Dictionary<string, Dictionary<string, string>> NodeEnvironments()
    {
        var dotEnv = File.ReadAllLines(Path.Combine(Docker, ".env"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);
        var services = (Dictionary<object, object>)ComposeFile()["services"];
        return services.Keys.Cast<string>().Where(n => n.StartsWith("node-", StringComparison.Ordinal)).ToDictionary(
            n => n,
            n => ((Dictionary<object, object>)((Dictionary<object, object>)services[n])["environment"]).ToDictionary(
                kv => (string)kv.Key,
                kv => Interpolation().Replace((string)kv.Value, m =>
                    dotEnv.TryGetValue(m.Groups["var"].Value, out var v) && v.Length > 0 ? v
                    : m.Groups["op"].Value == ":-" ? m.Groups["rest"].Value
                    : throw new Xunit.Sdk.XunitException($"{n}: {m.Value} has no value in docker/.env"))));
    }

    private static IConfiguration Configuration(IEnumerable<KeyValuePair<string, string>> env) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(env.Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":"), kv.Value)))
            .Build();

    [GeneratedRegex(@"\$\{(?<var>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:?[-?])(?<rest>[^}]*))?\}")]
    private static partial Regex Interpolation();

    [GeneratedRegex(@"--topic (?<topic>[a-z_0-9]+) --partitions (?<partitions>\d+)")]
    private static partial Regex SingleTopic();

    [GeneratedRegex(@"for t in (?<topics>[a-z_0-9 ]+); do\s+\S+ --create --if-not-exists --topic \$\$t --partitions (?<partitions>\d+)")]
    private static partial Regex TopicLoop();

    [GeneratedRegex(@"^\s+(?<key>SmartGrid__[A-Za-z0-9_]+):", RegexOptions.Multiline)]
    private static partial Regex EnvKey();

    [GeneratedRegex(@"^  (?<name>node-[a-z]+):\s*$", RegexOptions.Multiline)]
    private static partial Regex NodeService();
}
