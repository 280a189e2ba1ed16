using SmartGrid.Contracts;

namespace SmartGrid.Node;

/// <summary>
/// The cluster roles a SmartGrid node can take; <see cref="All"/> is the single-process default. The names
/// themselves are the contracts' <see cref="ClusterRoles"/>, which the services use too.
/// </summary>
public static class NodeRoles
{
    public const string Ingest = ClusterRoles.Ingest;
    public const string Processor = ClusterRoles.Processor;
    public const string Services = ClusterRoles.Services;
    public const string Gateway = ClusterRoles.Gateway;
    public const string Simulator = ClusterRoles.Simulator;
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
