using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace SmartGrid.Actors.Metering;

/// <summary>
/// The meters' mailbox: the same semantics as Akka's unbounded deque-based mailbox (which a persistent actor's stash
/// requires), in a fraction of its memory. Akka's keeps a ConcurrentQueue whose first segment alone holds 32 slots,
/// about 1 KiB per actor whether it is empty or not; a node holds hundreds of thousands of meters, each with a
/// message or two at a time, so this one keeps a plain queue behind a lock, created with room for four on the first
/// message and dropped when a burst that grew it past <see cref="Messages.KeptCapacity"/> is drained. Only the
/// shard and the journal send to a meter, so the lock is rarely contended.
/// </summary>
public sealed class MeterMailbox(Settings settings, Config config)
    : MailboxType(settings, config), IProducesMessageQueue<MeterMailbox.Messages>
{
    /// <summary>The configuration path the meter's props name (<see cref="Hocon"/> defines it).</summary>
    public const string Id = "smartgrid.meter-mailbox";

    public static readonly string Hocon = $"{Id}.mailbox-type = \"{typeof(MeterMailbox).AssemblyQualifiedName}\"";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new Messages();

    /// <summary>Unbounded FIFO with a front for unstashed messages (<see cref="EnqueueFirst"/>, the actor's own thread only).</summary>
    public sealed class Messages : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
    {
        /// <summary>A queue that grew past this during a burst is let go once empty, so a quiet meter does not keep it.</summary>
        public const int KeptCapacity = 16;

        private readonly Lock _lock = new();
        private Queue<Envelope>? _queue;
        private Stack<Envelope>? _front;
        private int _peak;
        private int _count;

        public bool HasMessages => Volatile.Read(ref _count) > 0;

        public int Count => Volatile.Read(ref _count);

        public void Enqueue(IActorRef receiver, Envelope envelope)
        {
            lock (_lock)
            {
                _queue ??= new Queue<Envelope>(4);
                _queue.Enqueue(envelope);
                _peak = Math.Max(_peak, _queue.Count);
                _count++;
            }
        }

        public void EnqueueFirst(Envelope envelope)
        {
            lock (_lock)
            {
                (_front ??= new Stack<Envelope>()).Push(envelope);
                _count++;
            }
        }

        public bool TryDequeue(out Envelope envelope)
        {
            lock (_lock)
            {
                if (_front is { Count: > 0 })
                {
                    envelope = _front.Pop();
                    if (_front.Count == 0) _front = null;
                }
                else if (_queue is { Count: > 0 })
                {
                    envelope = _queue.Dequeue();
                    if (_queue.Count == 0 && _peak > KeptCapacity) (_queue, _peak) = (null, 0);
                }
                else
                {
                    envelope = default;
                    return false;
                }
                _count--;
                return true;
            }
        }

        public void CleanUp(IActorRef owner, IMessageQueue deadletters)
        {
            while (TryDequeue(out var envelope))
                deadletters.Enqueue(owner, envelope);
        }
    }
}
