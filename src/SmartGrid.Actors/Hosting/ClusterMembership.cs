namespace SmartGrid.Actors.Hosting;

/// <summary>This node's place in the cluster: its remoting address and the seed nodes it joins.</summary>
public sealed class ClusterMembership
{
    public string Hostname { get; set; } = "127.0.0.1";
    /// <summary>0 picks a free port; a node with no seed nodes joins itself.</summary>
    public int Port { get; set; } = 4053;
    public List<string> SeedNodes { get; set; } = [];
    public string SystemName { get; set; } = "smartgrid";
}

/// <summary>
/// Where a shard region lives: on the nodes of <paramref name="Role"/>. This node hosts it when
/// <paramref name="HostedHere"/>, and reaches it through a proxy otherwise.
/// </summary>
public readonly record struct ShardPlacement(string Role, bool HostedHere)
{
    public static ShardPlacement On(string role, IReadOnlyList<string> nodeRoles) => new(role, nodeRoles.Contains(role));
}
