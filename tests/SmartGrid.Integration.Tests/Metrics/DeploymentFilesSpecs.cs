using System.Reflection;
using System.Text.RegularExpressions;
using SmartGrid.Actors.Hosting;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway;
using SmartGrid.Node.Ingestion;
using SmartGrid.Node.Simulation;

namespace SmartGrid.Integration.Tests.Metrics;

/// <summary>
/// docker/ stays in step with the code no Docker engine runs here: the topics kafka-init creates
/// are the seed's (Topics.All), the nodes' configuration keys bind to real options, and
/// Prometheus scrapes every node on the port the node serves /metrics on.
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
        // Sections bound to an options type here; Notifications and Management are read by the services and the command endpoint.
        var sections = new Dictionary<string, Type>
        {
            ["Gateway"] = typeof(GatewayOptions),
            ["Simulator"] = typeof(SimulatorOptions),
            ["Ingestion"] = typeof(IngestionOptions),
        };
        var checkedKeys = 0;
        foreach (var key in keys)
        {
            var path = key.Split("__");
            if (path[1] is "Notifications" or "Management") continue;
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
    }

    [GeneratedRegex(@"--topic (?<topic>[a-z_0-9]+) --partitions (?<partitions>\d+)")]
    private static partial Regex SingleTopic();

    [GeneratedRegex(@"for t in (?<topics>[a-z_0-9 ]+); do\s+\S+ --create --if-not-exists --topic \$\$t --partitions (?<partitions>\d+)")]
    private static partial Regex TopicLoop();

    [GeneratedRegex(@"^\s+(?<key>SmartGrid__[A-Za-z0-9_]+):", RegexOptions.Multiline)]
    private static partial Regex EnvKey();

    [GeneratedRegex(@"^  (?<name>node-[a-z]+):\s*$", RegexOptions.Multiline)]
    private static partial Regex NodeService();
}
