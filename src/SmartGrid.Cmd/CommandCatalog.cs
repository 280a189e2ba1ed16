namespace SmartGrid.Cmd;

/// <summary>One command of a palette, named as Petabridge.Cmd names it so SREs' habits carry over.</summary>
internal sealed record CommandSpec(string Palette, string Name, string Usage, string Description)
{
    public string FullName => $"{Palette} {Name}";
}

/// <summary>Every command the tool knows, for help, and the "did you mean" suggestion of an unknown one.</summary>
internal static class CommandCatalog
{
    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("cluster", "show", "cluster show", "members with status, reachability, roles, leader"),
        new("cluster", "leader", "cluster leader", "the cluster leader and each role's leader"),
        new("cluster", "unreachable", "cluster unreachable", "members this node cannot reach"),
        new("cluster", "join", "cluster join <address>", "make this node join the cluster at <address>"),
        new("cluster", "leave", "cluster leave <address>", "the member leaves gracefully (shards hand off, singletons move)"),
        new("cluster", "down", "cluster down <address>", "mark a (dead) member down so the cluster can converge"),
        new("cluster", "down-unreachable", "cluster down-unreachable", "mark every unreachable member down"),
        new("cluster", "tail", "cluster tail", "stream membership events until Ctrl+C"),
        new("cluster-sharding", "regions", "cluster-sharding regions", "shard types, hosted here or proxied"),
        new("cluster-sharding", "region-stats", "cluster-sharding region-stats -r <type>", "per node: shards, entities, coordinator"),
        new("cluster-sharding", "shard-stats", "cluster-sharding shard-stats -r <type>", "per shard: node and entities"),
        new("actor", "hierarchy", "actor hierarchy [-d <depth>] [--system]", "this node's actor tree (/user, and /system with --system)"),
        new("log", "peek", "log peek [-n <lines>]", "the node's most recent log lines"),
        new("node", "health", "node health", "readiness checks: PostgreSQL, Redis, Kafka, cluster"),
        new("node", "config", "node config", "effective configuration, secrets masked"),
        new("kafka", "lag", "kafka lag", "committed offset, end and lag per consumer group and partition"),
        new("singleton", "show", "singleton show", "where each cluster singleton runs"),
    ];

    /// <summary>Words the interactive prompt understands besides the commands.</summary>
    public static readonly IReadOnlyList<string> PromptWords = ["help", "history", "exit", "quit"];

    public static IEnumerable<string> Palettes => All.Select(c => c.Palette).Distinct();

    /// <summary>The commands of <paramref name="palette"/>, or all of them for null; none for a palette that does not exist.</summary>
    public static IReadOnlyList<CommandSpec> InPalette(string? palette) => All.Where(c => palette is null || c.Palette == palette).ToList();

    public static string UnknownPalette(string palette) => $"no palette '{palette}'; palettes: {string.Join(", ", Palettes)}";

    public static CommandSpec? Find(string palette, string name) =>
        All.FirstOrDefault(c => c.Palette == palette && c.Name == name);

    /// <summary>
    /// The closest known command to what was typed ("cluster shwo" → "cluster show", "sharding regions" →
    /// "cluster-sharding regions"), or null when nothing is close enough to be a plausible typo.
    /// </summary>
    public static string? Suggest(IReadOnlyList<string> words)
    {
        if (words.Count == 0) return null;
        var typed = string.Join(' ', words.Take(2)).ToLowerInvariant();
        // Two words name a command; one word may be a palette or a word of the prompt.
        var candidates = words.Count > 1 ? All.Select(c => c.FullName) : All.Select(c => c.FullName).Concat(Palettes).Concat(PromptWords);
        var best = candidates.Select(c => (Name: c, Distance: Distance(typed, c))).OrderBy(c => c.Distance).ThenBy(c => c.Name.Length).First();
        // Half the typed length, at most a few edits: "xyz" must not suggest "log peek".
        var allowed = Math.Clamp(typed.Length / 2, 1, 6);
        if (best.Distance <= allowed) return best.Name;
        // Half a palette name ("sharding regions"): the palette that contains it, if the command is close.
        if (words.Count > 1)
        {
            var partial = All.Where(c => c.Palette.Contains(words[0], StringComparison.OrdinalIgnoreCase))
                .Select(c => (c.FullName, Distance: Distance(words[1].ToLowerInvariant(), c.Name))).OrderBy(c => c.Distance).FirstOrDefault();
            if (partial.FullName is not null && partial.Distance <= 2) return partial.FullName;
        }
        // The palette right, the command wrong: suggest the palette's nearest command.
        var palette = All.Where(c => string.Equals(c.Palette, words[0], StringComparison.OrdinalIgnoreCase)).ToList();
        if (palette.Count > 0 && words.Count > 1)
            return palette.OrderBy(c => Distance(words[1].ToLowerInvariant(), c.Name)).First().FullName;
        return null;
    }

    /// <summary>Levenshtein distance, with a swap of two neighbours counting as one edit (optimal string alignment).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        for (var j = 1; j <= b.Length; j++)
        {
            var cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
