using System.Text.Json;
using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Ingestion;

/// <summary>
/// Puts accepted readings on Kafka <c>raw_readings</c>, keyed by meter id, through the node's
/// shared producer (acks=all, idempotent, zstd, short linger), and completes only when Kafka
/// acknowledged every one of them.
/// </summary>
public sealed class ReadingPublisher(IProducer<string, string> producer)
{
    private static readonly TimeSpan QueueFullBackoff = TimeSpan.FromMilliseconds(2);

    /// <exception cref="PublishFailedException">A record was refused or not acknowledged within <paramref name="timeout"/>.</exception>
    public async Task PublishAsync(IReadOnlyList<TelemetryReading> readings, TimeSpan timeout, CancellationToken ct)
    {
        if (readings.Count == 0) return;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var batch = new BatchDelivery(readings.Count);
        try
        {
            for (var i = 0; i < readings.Count; i++)
                await ProduceAsync(readings[i], batch, deadline.Token);
            await batch.Completion.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new PublishFailedException($"Kafka did not acknowledge the batch within {timeout.TotalSeconds:0.#} s");
        }
        catch (KafkaException e)
        {
            throw new PublishFailedException($"Kafka refused the batch: {e.Error.Reason} ({e.Error.Code})", e);
        }
        finally
        {
            if (!batch.Completion.IsCompletedSuccessfully) batch.Abandon();
        }
    }

    /// <summary>
    /// Hands one record to the producer. A full local queue is back-pressure, not an error: wait
    /// for deliveries to drain it, until the deadline.
    /// </summary>
    private async ValueTask ProduceAsync(TelemetryReading reading, BatchDelivery batch, CancellationToken deadline)
    {
        var message = new Message<string, string>
        {
            Key = reading.MeterId,
            Value = JsonSerializer.Serialize(reading, IngestionJsonContext.Default.TelemetryReading),
        };
        while (true)
        {
            try
            {
                // Once handed over, a record is delivered or fails on its own: no request token here.
                producer.Produce(Topics.RawReadings, message, batch.Report);
                return;
            }
            catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                await Task.Delay(QueueFullBackoff, deadline);
            }
        }
    }

    /// <summary>
    /// Counts one batch's delivery reports (a callback per record instead of a task per record,
    /// which at 20K readings/s was a good share of the node's garbage) and completes when every
    /// record is acknowledged, or fails with the first refusal.
    /// </summary>
    private sealed class BatchDelivery(int records)
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = records;

        public Task Completion => _done.Task;

        public void Report(DeliveryReport<string, string> report)
        {
            if (report.Error.IsError)
                _done.TrySetException(new ProduceException<string, string>(report.Error, report));
            else if (Interlocked.Decrement(ref _remaining) == 0)
                _done.TrySetResult();
        }

        /// <summary>A refusal that arrives after the caller gave up must not surface as an unobserved task exception.</summary>
        public void Abandon() =>
            _done.Task.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }
}

/// <summary>Kafka did not take a batch: the request answers 503 and claims nothing accepted.</summary>
public sealed class PublishFailedException(string message, Exception? inner = null) : Exception(message, inner);
