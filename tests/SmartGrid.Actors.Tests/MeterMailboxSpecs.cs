using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Metering;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// The meters' compact mailbox keeps the promises of Akka's unbounded deque-based one: first in, first out, unstashed
/// messages ahead of the rest, nothing lost or reordered per sender while many threads send, and what is left goes to
/// dead letters. The meter actor specs run on it too (<see cref="MeterActor.Props"/>).
/// </summary>
public sealed class MeterMailboxSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private static Envelope Message(object message) => new(message, ActorRefs.NoSender);

    private static List<object> Drain(IMessageQueue queue)
    {
        var taken = new List<object>();
        while (queue.TryDequeue(out var envelope)) taken.Add(envelope.Message);
        return taken;
    }

    [Fact]
    public void Should_hand_out_messages_in_order_with_unstashed_ones_first()
    {
        var queue = new MeterMailbox.Messages();
        foreach (var i in Enumerable.Range(1, 3)) queue.Enqueue(ActorRefs.Nobody, Message(i));
        Assert.Equal(1, (int)(queue.TryDequeue(out var first) ? first.Message : 0));

        // A stash is put back newest first, so the oldest stashed message ends up at the front.
        queue.EnqueueFirst(Message("stashed 2"));
        queue.EnqueueFirst(Message("stashed 1"));

        Assert.Equal(4, queue.Count);
        Assert.Equal(["stashed 1", "stashed 2", 2, 3], Drain(queue));
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task Should_lose_nothing_and_keep_each_senders_order_while_many_threads_send()
    {
        const int Senders = 4, PerSender = 20_000;
        var queue = new MeterMailbox.Messages();
        var taken = new List<(int Sender, int Seq)>();
        var sending = Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < PerSender; i++) queue.Enqueue(ActorRefs.Nobody, Message((s, i)));
        })).ToArray();
        while (taken.Count < Senders * PerSender)
        {
            if (queue.TryDequeue(out var envelope)) taken.Add(((int, int))envelope.Message);
            else if (sending.All(t => t.IsCompleted) && !queue.HasMessages) break;
        }
        await Task.WhenAll(sending);

        Assert.Equal(Senders * PerSender, taken.Count);
        foreach (var sender in taken.GroupBy(t => t.Sender))
            Assert.Equal(Enumerable.Range(0, PerSender), sender.Select(t => t.Seq));
    }

    [Fact]
    public void Should_take_messages_again_after_a_burst_that_outgrew_the_kept_room_was_drained()
    {
        var queue = new MeterMailbox.Messages();
        var burst = MeterMailbox.Messages.KeptCapacity * 4;
        foreach (var i in Enumerable.Range(0, burst)) queue.Enqueue(ActorRefs.Nobody, Message(i));
        Assert.Equal(Enumerable.Range(0, burst).Cast<object>(), Drain(queue));

        queue.Enqueue(ActorRefs.Nobody, Message("after"));

        Assert.Equal(["after"], Drain(queue));
    }

    [Fact]
    public void Should_send_what_is_left_to_dead_letters_when_cleaned_up()
    {
        var queue = new MeterMailbox.Messages();
        queue.Enqueue(ActorRefs.Nobody, Message(1));
        queue.EnqueueFirst(Message(0));
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.Equal([0, 1], Drain(deadLetters));
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public async Task Should_be_the_mailbox_a_meter_runs_on()
    {
        var meter = Sys.ActorOf(MeterActor.Props("MTR-00000042", new MeterPolicy(), TimeSpan.FromHours(1), 100, TimeSpan.FromHours(1)));
        await meter.Ask<MeterStatus>(new GetMeterStatus("MTR-00000042"), Patience, TestContext.Current.CancellationToken);

        var cell = Assert.IsType<ActorCell>(((ActorRefWithCell)meter).Underlying);

        Assert.IsType<MeterMailbox.Messages>(cell.Mailbox?.MessageQueue);
    }
}
