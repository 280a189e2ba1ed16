using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using SmartGrid.Actors.Hosting;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// A replay after a processor's removal must not reach the dead node's shard region: the survivor's region and
/// its coordinator drop it only some time after the removal, and asks routed there are never answered.
/// </summary>
public sealed class MemberRemovalsSpecs : IAsyncLifetime
{
    private static readonly Address Dead = new("akka.tcp", "smartgrid", "127.0.0.1", 4711);
    private static readonly Address Survivor = new("akka.tcp", "smartgrid", "127.0.0.1", 4712);
    private readonly ActorSystem _system = ActorSystem.Create("member-removals-specs");

    [Fact]
    public async Task Should_hand_over_only_once_the_coordinators_view_no_longer_lists_the_dead_member()
    {
        var view = new CoordinatorView([Dead, Survivor]);
        var region = _system.ActorOf(Props.Create(() => new FakeRegion(view)));
        var handover = MemberRemovals.HandOverAsync(region, Dead, Logging.GetLogger(_system, "specs"));

        // The view listed the dead member, then listed nobody (its coordinator moving): no hand-over yet.
        // A hand-over that completes too early stops polling: each wait ends then too, and the assertion fails.
        await Task.WhenAny(view.AnsweredAsync(2), handover);
        view.Set([]);
        await Task.WhenAny(view.AnsweredAsync(4), handover);
        Assert.False(handover.IsCompleted, "handed over while the coordinator still listed the dead member or listed nobody");

        view.Set([Survivor]);
        await handover.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    /// <summary>What the fake region's coordinator answers to <see cref="GetCurrentRegions"/>, and how often it did.</summary>
    private sealed class CoordinatorView(Address[] regions)
    {
        private volatile Address[] _regions = regions;
        private int _answered;

        public void Set(Address[] regions) => _regions = regions;

        public CurrentRegions Answer()
        {
            var answer = new CurrentRegions(System.Collections.Immutable.ImmutableHashSet.Create(_regions));
            Interlocked.Increment(ref _answered);
            return answer;
        }

        public async Task AnsweredAsync(int times)
        {
            while (Volatile.Read(ref _answered) < times) await Task.Delay(20);
        }
    }

    private sealed class FakeRegion : ReceiveActor
    {
        public FakeRegion(CoordinatorView view) => Receive<GetCurrentRegions>(_ => Sender.Tell(view.Answer()));
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await _system.Terminate();
}
