namespace SmartGrid.Contracts;

/// <summary>
/// The cluster role names, the contract between a node's configuration (SmartGrid:Roles) and the
/// singletons, shard regions and proxies that pick their nodes by role.
/// </summary>
public static class ClusterRoles
{
    public const string Ingest = "ingest";
    public const string Processor = "processor";
    public const string Services = "services";
    public const string Gateway = "gateway";
    public const string Simulator = "simulator";
}
