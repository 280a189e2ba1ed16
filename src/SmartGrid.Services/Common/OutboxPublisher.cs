using Confluent.Kafka;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Storage;

namespace SmartGrid.Services.Common;

/// <summary>
/// The managers' one outbox loop: sends the unpublished rows of an <see cref="Outbox{TMessage,TId}"/> to its topic in order,
/// waits for the broker's acknowledgement of the batch, then marks it published. A crash in between
/// re-sends the batch (at least once), which consumers recognise by the message's id.
/// </summary>
internal sealed class OutboxPublisher(NpgsqlDataSource db, IProducer<string, string> producer)
{
    /// <summary>Outbox rows sent per round.</summary>
    public const int Batch = 500;

    public async Task PublishPendingAsync<TMessage, TId>(string topic, Outbox<TMessage, TId> outbox)
    {
        while (true)
        {
            await using var connection = await db.OpenConnectionAsync();
            var pending = await outbox.PendingAsync(connection, Batch);
            if (pending.Count == 0) return;
            await Task.WhenAll(pending.Select(m => producer.ProduceAsync(topic,
                new Message<string, string> { Key = outbox.Key(m), Value = WireJson.Serialize(m) })));
            await outbox.MarkPublishedAsync(connection, pending);
            // A short batch was the last one: no second query per record on the hot path.
            if (pending.Count < Batch) return;
        }
    }
}
