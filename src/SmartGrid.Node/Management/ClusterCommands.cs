using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using SmartGrid.Contracts.Management;

namespace SmartGrid.Node.Management;

/// <summary>The <c>cluster</c> palette: membership as this node sees it, and the operator's membership actions.</summary>
public sealed class ClusterCommands(ActorSystem system)
{
    /// <summary>How long join/leave/down wait to report the member's new status (the action itself goes on regardless).</summary>
    private static readonly TimeSpan SettleWait = TimeSpan.FromSeconds(5);

    private Cluster Cluster => Cluster.Get(system);

    public CommandOutput Show()
    {
        var state = Cluster.State;
        var table = new TableBuilder("members", "address", "status", "reachable", "roles", "leader", "self");
        foreach (var m in state.Members.OrderBy(m => m, Member.AgeOrdering))
            table.Row(m.Address, m.Status, state.Unreachable.Contains(m) ? "no" : "yes", string.Join(",", m.Roles.OrderBy(r => r)),
                m.Address.Equals(state.Leader) ? "*" : "", m.Address.Equals(Cluster.SelfAddress) ? "*" : "");
        return CommandOutput.Of(table.Build())
            .With($"{state.Members.Count(m => m.Status == MemberStatus.Up)} Up of {state.Members.Count} member(s), {state.Unreachable.Count} unreachable; seen by {Cluster.SelfAddress}");
    }

    public CommandOutput Leader()
    {
        var state = Cluster.State;
        var table = new TableBuilder("leaders", "scope", "address");
        table.Row("cluster", state.Leader?.ToString() ?? "none");
        foreach (var role in state.AllRoles.OrderBy(r => r))
            table.Row($"role {role}", state.RoleLeader(role)?.ToString() ?? "none");
        return CommandOutput.Of(table.Build());
    }

    public CommandOutput Unreachable()
    {
        var state = Cluster.State;
        var table = new TableBuilder("unreachable", "address", "status", "roles");
        foreach (var m in state.Unreachable.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal))
            table.Row(m.Address, m.Status, string.Join(",", m.Roles.OrderBy(r => r)));
        return CommandOutput.Of(table.Build()).With($"{state.Unreachable.Count} unreachable member(s)");
    }

    public async Task<CommandOutput> JoinAsync(string? address)
    {
        var target = ParseAddress(address);
        var self = Cluster.SelfMember;
        if (Cluster.State.Members.Any(m => m.Address.Equals(target)))
            return CommandOutput.Message($"{target} is already a member of this node's cluster");
        // Akka ignores a join from a node that is already part of a cluster: say so instead of pretending.
        if (self.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving)
            throw CommandException.Conflict("Already a member",
                $"{Cluster.SelfAddress} is {self.Status} in a cluster that {target} is not part of; a node joins one cluster only (restart it with that seed node)");
        Cluster.Join(target);
        await WaitForAsync(() => Cluster.SelfMember.Status is MemberStatus.Up or MemberStatus.WeaklyUp);
        return CommandOutput.Message($"{Cluster.SelfAddress} asked to join {target}; now {Cluster.SelfMember.Status}");
    }

    public async Task<CommandOutput> LeaveAsync(string? address)
    {
        var member = FindMember(address);
        Cluster.Leave(member.Address);
        var status = await WaitForAsync(() => StatusOf(member.Address) is null or MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Removed);
        return CommandOutput.Message($"{member.Address} is leaving gracefully (now {Describe(StatusOf(member.Address))}{(status ? "" : ", still handing off")})");
    }

    public async Task<CommandOutput> DownAsync(string? address)
    {
        var member = FindMember(address);
        Cluster.Down(member.Address);
        await WaitForAsync(() => StatusOf(member.Address) is null or MemberStatus.Down or MemberStatus.Removed);
        return CommandOutput.Message($"{member.Address} marked down (now {Describe(StatusOf(member.Address))})");
    }

    public CommandOutput DownUnreachable()
    {
        var unreachable = Cluster.State.Unreachable.ToList();
        foreach (var m in unreachable) Cluster.Down(m.Address);
        return unreachable.Count == 0
            ? CommandOutput.Message("no unreachable member to down")
            : CommandOutput.Message($"marked down {unreachable.Count} unreachable member(s): {string.Join(", ", unreachable.Select(m => m.Address))}");
    }

    /// <summary>The member at <paramref name="address"/> (full address or host:port), or 404 naming the members there are.</summary>
    public Member FindMember(string? address)
    {
        var members = Cluster.State.Members.Concat(Cluster.State.Unreachable).ToImmutableHashSet();
        if (string.IsNullOrWhiteSpace(address)) throw CommandException.BadInput("address", "an address is required, e.g. akka.tcp://smartgrid@127.0.0.1:4053 or 127.0.0.1:4053");
        Member? found;
        if (address.Contains("://", StringComparison.Ordinal))
        {
            var target = ParseAddress(address);
            found = members.FirstOrDefault(m => m.Address.Equals(target));
        }
        else
        {
            found = members.FirstOrDefault(m => string.Equals($"{m.Address.Host}:{m.Address.Port}", address.Trim(), StringComparison.OrdinalIgnoreCase));
        }
        return found ?? throw CommandException.NotFound("Not a member",
            $"{address} is not a member of the cluster; members: {string.Join(", ", members.Select(m => m.Address.ToString()).Order(StringComparer.Ordinal))}");
    }

    private MemberStatus? StatusOf(Address address) =>
        Cluster.State.Members.FirstOrDefault(m => m.Address.Equals(address))?.Status;

    private static string Describe(MemberStatus? status) => status?.ToString() ?? "removed";

    private static Address ParseAddress(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
            throw CommandException.BadInput("address", "an address is required, e.g. akka.tcp://smartgrid@127.0.0.1:4053");
        try
        {
            var parsed = Address.Parse(address.Trim());
            if (parsed.Host is null || parsed.Port is null) throw new UriFormatException("host and port are required");
            return parsed;
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            throw CommandException.BadInput("address", $"'{address}' is not an Akka address (akka.tcp://system@host:port): {e.Message}");
        }
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + SettleWait;
        while (!condition())
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(100);
        }
        return true;
    }
}
