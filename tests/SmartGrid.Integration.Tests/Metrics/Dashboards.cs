using System.Text.Json;
using System.Text.RegularExpressions;

namespace SmartGrid.Integration.Tests.Metrics;

/// <summary>The Grafana dashboards of docker/grafana/dashboards and the Prometheus metric names their queries use.</summary>
internal static partial class Dashboards
{
    public static readonly string[] Expected = ["throughput", "service-health", "kafka-lag", "db-performance", "alert-trends", "regional-load"];

    public static string Folder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SmartGrid.Actors.sln")))
            dir = dir.Parent;
        Assert.NotNull(dir);
        return Path.Combine(dir!.FullName, "docker", "grafana", "dashboards");
    }

    /// <summary>Every PromQL expression of every panel, by dashboard file name.</summary>
    public static Dictionary<string, List<string>> Expressions()
    {
        var result = new Dictionary<string, List<string>>();
        foreach (var file in Directory.GetFiles(Folder(), "*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var exprs = new List<string>();
            Collect(doc.RootElement, exprs);
            result[Path.GetFileNameWithoutExtension(file)] = exprs;
        }
        return result;
    }

    /// <summary>Metric names in PromQL: identifiers that are not functions, keywords or label names.</summary>
    public static IEnumerable<string> MetricNames(string expr)
    {
        var withoutLabels = LabelMatchers().Replace(expr, "");
        withoutLabels = Grouping().Replace(withoutLabels, "");
        return Identifier().Matches(withoutLabels).Select(m => m.Value)
            .Where(name => name.Contains('_') && !PromQl.Contains(name));
    }

    private static readonly HashSet<string> PromQl = ["histogram_quantile", "label_replace"];

    private static void Collect(JsonElement e, List<string> exprs)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String) exprs.Add(p.Value.GetString()!);
                else Collect(p.Value, exprs);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray()) Collect(item, exprs);
        }
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\b(by|without)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\b[a-z_][a-z0-9_]*\b")]
    private static partial Regex Identifier();
}
