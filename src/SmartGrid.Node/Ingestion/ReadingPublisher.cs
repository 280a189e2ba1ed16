using System.Text.Json;
using Confluent.Kafka;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Node.Ingestion;

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
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var deliveries = new Task[readings.Count];
        try
        {
            for (var i = 0; i < readings.Count; i++)
                deliveries[i] = await ProduceAsync(readings[i], deadline.Token);
            await Task.WhenAll(deliveries).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Observe(deliveries);
            throw new PublishFailedException($"Kafka did not acknowledge the batch within {timeout.TotalSeconds:0.#} s");
        }
        catch (KafkaException e)
        {
            Observe(deliveries);
            throw new PublishFailedException($"Kafka refused the batch: {e.Error.Reason} ({e.Error.Code})", e);
        }
    }

    /// <summary>
    /// Hands one record to the producer and returns its delivery task. A full local queue is
    /// back-pressure, not an error: wait for deliveries to drain it, until the deadline.
    /// </summary>
    private async ValueTask<Task> ProduceAsync(TelemetryReading reading, CancellationToken deadline)
    {
        var message = new Message<string, string>
        {
            Key = reading.MeterId,
            Value = JsonSerializer.Serialize(reading, IngestionJsonContext.Default.TelemetryReading),
        };
        while (true)
        {
            // Not the request's token: once handed over, a record is delivered or fails on its own.
            var delivery = producer.ProduceAsync(Topics.RawReadings, message, CancellationToken.None);
            // ProduceAsync is async: a full local queue comes back as an already faulted task.
            if (!delivery.IsFaulted || delivery.Exception?.InnerException is not ProduceException<string, string> { Error.Code: ErrorCode.Local_QueueFull })
                return delivery;
            await Task.Delay(QueueFullBackoff, deadline);
        }
    }

    // Failed deliveries of an abandoned batch must not surface as unobserved task exceptions.
    private static void Observe(Task?[] deliveries)
    {
        foreach (var task in deliveries)
            task?.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
    }
}

/// <summary>Kafka did not take a batch: the request answers 503 and claims nothing accepted.</summary>
public sealed class PublishFailedException(string message, Exception? inner = null) : Exception(message, inner);
