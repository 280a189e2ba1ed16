using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// Which raw_readings partitions this processor reads. The Akka cluster decides, not a Kafka consumer group: every
/// processor computes, from its own view of the processor members, the owner of each partition
/// (<see cref="PartitionOwnership"/>, rendezvous hashing of the partition and the member's unique address, balanced shares), and reads
/// the partitions it owns (<see cref="PartitionAssignment"/>: the consumer joins no group). No Kafka session stands in
/// the way: a restarted node is the only Up processor and reads everything as soon as it is Up, and a survivor takes a
/// dead member's partitions once the dead member's shards have moved, without waiting for a group to notice.
/// <para>Who holds partitions: the processor members that are Up, and a downed one until it is removed and its meters'
/// shards have left the shard coordinator's view (<see cref="MemberRemovals.HandOverAsync"/>): asks sent to its meters
/// before that are never answered. A Leaving or Exiting member holds none (stopped by a signal, it drains its stream
/// first; told to leave, it stops reading as soon as it sees itself Leaving), nor does this node when it is not Up itself (a node that the split-brain resolver downs takes nothing over
/// from the side that won). An unreachable member keeps its partitions until the resolver decides.</para>
/// <para>There is no barrier between nodes: when a member joins, it may start a partition a moment before the old owner's
/// view shows it Up and stops it. Both then send the same partition's readings to the same meters, each as its own
/// stream run; a meter takes the newer run's readings (starting over from its journal when the older run's unpersisted
/// readings would make them too late) and refuses the older run's, whose checkpoint then commits nothing. So the
/// overlap costs a replay, never a reading.</para>
/// </summary>
public static class TelemetryPartitions
{
    public const string ActorName = "telemetry-partitions";

    /// <summary>The partitions of raw_readings, from the topic contract.</summary>
    public static readonly int Count = Topics.RawReadings.Partitions;

    /// <param name="region">The meters' shard region: a crashed member's partitions move once its shards have left the coordinator's view.</param>
    public static PartitionAssignment Watch(ActorSystem system, string role, IActorRef region)
    {
        var assignment = new PartitionAssignment([]);
        system.ActorOf(Props.Create(() => new Owner(assignment, role, region)), ActorName);
        return assignment;
    }

    /// <summary>How members are named to the hash: the address and its incarnation, the same string on every node.</summary>
    public static string Key(UniqueAddress member) => $"{member.Address}#{member.Uid}";

    /// <summary>
    /// The partitions <paramref name="self"/> reads, from its view of the processor members (their status) and of the
    /// removed ones whose shards are still moving (<paramref name="handingOver"/>); see <see cref="TelemetryPartitions"/>.
    /// </summary>
    public static IReadOnlyList<int> Owned(UniqueAddress self, IReadOnlyDictionary<UniqueAddress, MemberStatus> members, IEnumerable<UniqueAddress> handingOver)
    {
        if (members.GetValueOrDefault(self, MemberStatus.Removed) != MemberStatus.Up)
            return [];
        var owners = Owners(members, handingOver);
        var key = Key(self);
        return Enumerable.Range(0, Count).Where(p => owners[p] == key).ToList();
    }

    /// <summary>
    /// The reader of each partition (its member's <see cref="Key"/>), the one rule every processor's consumer and the
    /// meters' shard allocation (<see cref="Metering.MeterShardAllocation"/>) follow: the Up and Down processor members
    /// and the removed ones whose shards are still moving hold partitions.
    /// </summary>
    public static string?[] Owners(IReadOnlyDictionary<UniqueAddress, MemberStatus> members, IEnumerable<UniqueAddress> handingOver)
    {
        var holders = members.Where(m => m.Value is MemberStatus.Up or MemberStatus.Down).Select(m => m.Key)
            .Concat(handingOver).Distinct().Select(Key).ToList();
        return PartitionOwnership.Owners(Count, holders);
    }

    private sealed record HandedOver(UniqueAddress Member);

    private sealed class Owner : ReceiveActor
    {
        private readonly Dictionary<UniqueAddress, Member> _members = new();
        private readonly HashSet<UniqueAddress> _handingOver = new();
        private readonly PartitionAssignment _assignment;
        private readonly Cluster _cluster = Cluster.Get(Context.System);
        private readonly ILoggingAdapter _log = Context.GetLogger();
        private IReadOnlyList<int> _owned = [];

        public Owner(PartitionAssignment assignment, string role, IActorRef region)
        {
            _assignment = assignment;
            Receive<ClusterEvent.MemberRemoved>(e =>
            {
                if (!e.Member.HasRole(role) || !_members.Remove(e.Member.UniqueAddress)) return;
                if (e.PreviousStatus != MemberStatus.Exiting && !e.Member.UniqueAddress.Equals(_cluster.SelfUniqueAddress))
                {
                    // Removed without leaving (downed after a crash or a partition): its meters answer from their new
                    // homes only once the coordinator has dropped its region.
                    _handingOver.Add(e.Member.UniqueAddress);
                    var self = Self;
                    var dead = e.Member.UniqueAddress;
                    MemberRemovals.HandOverAsync(region, dead.Address, _log)
                        .ContinueWith(_ => self.Tell(new HandedOver(dead)), TaskScheduler.Default);
                }
                Apply();
            });
            Receive<ClusterEvent.IMemberEvent>(e =>
            {
                if (!e.Member.HasRole(role)) return;
                _members[e.Member.UniqueAddress] = e.Member;
                Apply();
            });
            Receive<HandedOver>(h =>
            {
                _handingOver.Remove(h.Member);
                Apply();
            });
            _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        }

        private void Apply()
        {
            var owned = Owned(_cluster.SelfUniqueAddress, _members.ToDictionary(m => m.Key, m => m.Value.Status), _handingOver);
            // Every view is logged (processor membership changes are rare): which partitions a node read when is in its log.
            _log.Info("telemetry partitions: reading [{0}] (was [{1}]); processors {2}{3}", string.Join(",", owned), string.Join(",", _owned),
                string.Join(", ", _members.Values.Select(m => $"{m.Address} {m.Status}")),
                _handingOver.Count > 0 ? $"; waiting for the shards of {string.Join(", ", _handingOver.Select(m => m.Address))}" : "");
            _owned = owned;
            _assignment.Set(owned.Select(p => new TopicPartition(Topics.RawReadings, p)));
        }

        protected override void PostStop() => _cluster.Unsubscribe(Self);
    }
}
