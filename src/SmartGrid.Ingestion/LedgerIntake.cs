using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Http;
using SmartGrid.Storage;

namespace SmartGrid.Ingestion;

/// <summary>
/// The acknowledgement's promise: a batch's accepted readings become one committed row of the
/// ingest ledger before the request is answered, and the pump then takes them to Kafka. Refuses the
/// whole batch (503 with Retry-After, nothing accepted) when PostgreSQL cannot take it, or when the
/// ledger already holds <see cref="IngestionOptions.MaxLedgerBacklog"/> readings the processor has not consumed.
/// </summary>
public sealed class LedgerIntake(IngestLedger ledger, LedgerPump pump, LedgerBacklog backlog, IngestionOptions options, ILogger<LedgerIntake> log)
{
    /// <returns>Null when the batch is durable; otherwise the 503 to answer.</returns>
    public async Task<IResult?> AppendAsync(IReadOnlyList<TelemetryReading> readings, CancellationToken ct)
    {
        if (backlog.Readings + readings.Count > options.MaxLedgerBacklog)
        {
            return Unavailable("Ingestion backlog full",
                $"{backlog.Readings} acknowledged readings are waiting for the processor (at most {options.MaxLedgerBacklog}); nothing of this batch is accepted. Retry later.");
        }
        var payload = LedgerPayload.Encode(readings);
        long id;
        try
        {
            id = await ledger.AppendAsync(options.LedgerOwner!, readings.Count, payload.Memory, ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            payload.Dispose();
            log.LedgerRefusedBatch(e, readings.Count);
            return Unavailable("Ingest ledger unavailable",
                "PostgreSQL did not store this batch; nothing of it is accepted. Retry later.");
        }
        catch
        {
            payload.Dispose();
            throw;
        }
        pump.Enqueue(id, readings.Count, payload);
        return null;
    }

    private RetryAfterResult Unavailable(string title, string detail) =>
        RetryAfterResult.Problem(StatusCodes.Status503ServiceUnavailable, title, detail, options.RetryAfter);
}
