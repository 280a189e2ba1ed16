namespace SmartGrid.Contracts;

/// <summary>
/// The cluster role names, the contract between a node's configuration (SmartGrid:Roles) and the
/// singletons, shard regions and proxies that pick their nodes by role. <see cref="All"/> is the
/// single-process default.
/// </summary>
public static class ClusterRoles
{
    public const string Ingest = "ingest";
    public const string Processor = "processor";
    public const string Services = "services";
    public const string Gateway = "gateway";
    public const string Simulator = "simulator";
    public const string All = "all";

    public static readonly IReadOnlyList<string> Every = [Ingest, Processor, Services, Gateway, Simulator];

    /// <summary>Parses "ingest,processor" or "all"; rejects unknown names so a typo fails at start-up.</summary>
    public static IReadOnlyList<string> Parse(string? roles)
    {
        var names = (roles ?? All).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => r.ToLowerInvariant()).ToList();
        if (names.Count == 0 || names.Contains(All)) return Every;
        var unknown = names.Where(n => !Every.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"unknown role(s) {string.Join(", ", unknown)}; expected any of {string.Join(", ", Every)} or {All}");
        return names.Distinct().ToList();
    }
}
