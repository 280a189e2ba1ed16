using Akka.Actor;
using Akka.Cluster;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Projections;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Management;
using SmartGrid.Services.Alerts;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tariffs;

namespace SmartGrid.Node.Management;

/// <summary>
/// <c>singleton show</c>: for each cluster singleton, the member that should run it (the oldest Up
/// member with its role), the member where it answers, and whether that is the member a proxy on
/// this node would resolve (a proxy identifies the singleton under the oldest member's manager).
/// </summary>
public sealed class SingletonCommands(ActorSystem system)
{
    private static readonly TimeSpan IdentifyTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The node's singletons, by the names they are registered under and the role that hosts them.</summary>
    public static readonly IReadOnlyList<(string Name, string Role)> Known =
    [
        (TariffManager.Name, ClusterRoles.Services),
        (AlertManager.Name, ClusterRoles.Services),
        (NotificationManager.Name, ClusterRoles.Services),
        (WindowProjection.ProjectionId, ClusterRoles.Processor),
        (RegionalProjection.ProjectionId, ClusterRoles.Processor),
    ];

    public async Task<CommandOutput> ShowAsync()
    {
        var up = Cluster.Get(system).State.Members.Where(m => m.Status == MemberStatus.Up).ToList();
        var table = new TableBuilder("singletons", "singleton", "role", "oldest with role", "running at", "proxy resolves");
        foreach (var (name, role) in Known)
        {
            var oldest = up.Where(m => m.HasRole(role)).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
            var runningAt = (await Task.WhenAll(up.Where(m => m.HasRole(role)).Select(async m => await IdentifyAsync(m.Address, name) ? m.Address : null)))
                .Where(a => a is not null).ToList();
            table.Row(name, role, oldest?.Address.ToString() ?? "no member with role",
                runningAt.Count == 0 ? "not found" : string.Join(" ", runningAt),
                oldest is not null && runningAt.Count == 1 && runningAt[0]!.Equals(oldest.Address) ? "yes" : "no");
        }
        return CommandOutput.Of(table.Build());
    }

    /// <summary>Akka.Hosting names the singleton after its manager: /user/{name}/{name} on the member that runs it.</summary>
    private async Task<bool> IdentifyAsync(Address address, string name)
    {
        try
        {
            var identity = await system.ActorSelection($"{address}/user/{name}/{name}").Ask<ActorIdentity>(new Identify(name), IdentifyTimeout);
            return identity.Subject is not null;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }
}
