using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Ingestion;

/// <summary>
/// <c>POST /telemetry/batch</c>: reads a batch of readings (a JSON array, or an object with a
/// <c>readings</c> array) from a client its ingestion key lets in, validates each record on its
/// own, admits the meters by the registry's rules, and answers once the accepted readings are one
/// committed ingest ledger row, which the ledger pump publishes to Kafka <c>raw_readings</c>. A bad record never costs a good one its place.
/// </summary>
public sealed class TelemetryBatchHandler(
    IngestionOptions options,
    ReadingValidator validator,
    MeterAdmission meters,
    IngestionAuthenticator authenticator,
    LedgerIntake ledger,
    IngestionMetrics metrics,
    TimeProvider time,
    ILogger<TelemetryBatchHandler> log)
{
    private const string ReadingsProperty = "readings";

    // Source-generated contracts, written like ASP.NET's problem answers ("+" not escaped as \u002B).
    private static readonly JsonSerializerOptions ResponseJson = new(IngestionJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var ct = context.RequestAborted;
        var (key, denied) = await authenticator.AuthenticateAsync(context);
        if (denied is not null)
            return denied;
        if (!request.HasJsonContentType())
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported content type",
                detail: $"Send the readings as application/json (got '{request.ContentType ?? "none"}').");
        }
        if (request.ContentLength > options.MaxBodyBytes)
            return BodyTooLarge();

        using var document = await ReadDocumentAsync(context, ct);
        if (document.Failure is not null)
            return document.Failure;

        var root = document.Json!.RootElement;
        JsonElement records;
        if (root.ValueKind == JsonValueKind.Array)
            records = root;
        else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(ReadingsProperty, out var wrapped) && wrapped.ValueKind == JsonValueKind.Array)
            records = wrapped;
        else
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { ["$"] = ["expected an array of readings or an object with a 'readings' array"] },
                title: "Not a batch of readings",
                detail: $"The body is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an array of readings or {{ \"readings\": [...] }}.");
        }

        var count = records.GetArrayLength();
        if (count > options.MaxBatch)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { [ReadingsProperty] = [$"{count} records exceed the maximum batch of {options.MaxBatch}"] },
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Batch too large",
                detail: $"A batch may hold at most {options.MaxBatch} readings; split it and send the parts.",
                extensions: new Dictionary<string, object?> { ["maxBatch"] = options.MaxBatch, ["count"] = count });
        }
        if (count == 0)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { [ReadingsProperty] = ["the batch holds no readings"] },
                title: "Empty batch");
        }

        var now = time.GetUtcNow();
        var accepted = new List<TelemetryReading>(count);
        var acceptedIndex = new List<int>(count);
        var rejected = new List<RecordResult>();
        var index = 0;
        foreach (var element in records.EnumerateArray())
        {
            var result = validator.Validate(element, now);
            if (result.Reading is { } reading)
            {
                accepted.Add(reading with { IngestedAt = now });
                acceptedIndex.Add(index);
            }
            else
            {
                rejected.Add(new RecordResult(index, RecordResult.RejectedStatus, result.Errors));
            }
            index++;
        }

        try
        {
            if (accepted.Count > 0)
            {
                var admitted = await meters.AdmitAsync(accepted, acceptedIndex, key, rejected, ct);
                (accepted, acceptedIndex) = (admitted.Readings, admitted.Indexes);
                metrics.Provisioned(admitted.Provisioned);
            }
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            log.RegistryUnavailable(e, count);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Meter registry unavailable",
                detail: "The meters of this batch could not be checked; nothing was accepted. Retry later.");
        }

        if (accepted.Count == 0)
        {
            metrics.Rejected(rejected.Count);
            return NoValidRecord(rejected);
        }

        var started = Stopwatch.GetTimestamp();
        if (await ledger.AppendAsync(accepted, ct) is { } refused)
        {
            metrics.PublishFailed();
            return refused;
        }
        metrics.AckLatency(Stopwatch.GetElapsedTime(started));
        metrics.Accepted(accepted.Count);
        metrics.Rejected(rejected.Count);

        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        var body = new BatchResult(accepted.Count, rejected.Count, rejected);
        return Results.Json(body, ResponseJson,
            statusCode: rejected.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status207MultiStatus);
    }

    private static IResult NoValidRecord(List<RecordResult> rejected)
    {
        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        var errors = rejected
            .SelectMany(r => r.Errors.Select(e => (Key: $"[{r.Index}].{e.Field}", e.Reason)))
            .GroupBy(e => e.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Reason).ToArray(), StringComparer.Ordinal);
        // Refused only for the key's scope: the client's credentials, not its data, are at fault.
        var forbidden = rejected.TrueForAll(r => r.Code == StatusCodes.Status403Forbidden);
        return Results.ValidationProblem(errors,
            statusCode: forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest,
            title: forbidden ? "No reading of the batch may be written with this key" : "No valid reading in the batch",
            detail: $"All {rejected.Count} record(s) were rejected; see errors (keyed [index].field) and results.",
            extensions: new Dictionary<string, object?>
            {
                ["accepted"] = 0,
                ["rejected"] = rejected.Count,
                ["results"] = rejected,
            });
    }

    private IResult BodyTooLarge() =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Body too large",
            detail: $"The body may be at most {options.MaxBodyBytes} bytes; split the batch.",
            extensions: new Dictionary<string, object?> { ["maxBodyBytes"] = options.MaxBodyBytes });

    /// <summary>
    /// Reads the whole body (at most <see cref="IngestionOptions.MaxBodyBytes"/>) straight from the
    /// request pipe and parses it; on failure the result carries the answer to give.
    /// </summary>
    private async Task<ParsedBody> ReadDocumentAsync(HttpContext context, CancellationToken ct)
    {
        // We enforce our own limit with a problem+json answer; Kestrel's would be a bare 413.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null;

        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            if (buffer.Length > options.MaxBodyBytes)
            {
                reader.AdvanceTo(buffer.End);
                return new ParsedBody(null, BodyTooLarge());
            }
            if (!read.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            try
            {
                // A single-segment body is parsed in place: the pipe's buffer stays ours until
                // the document is disposed, and only then is it released (ParsedBody.Dispose).
                return new ParsedBody(JsonDocument.Parse(buffer), null, reader, buffer.End);
            }
            catch (JsonException e)
            {
                reader.AdvanceTo(buffer.End);
                return new ParsedBody(null, Malformed(e));
            }
        }
    }

    private static IResult Malformed(JsonException e)
    {
        // Line and byte are zero-based in System.Text.Json; people count from one.
        var where = e.LineNumber is { } line
            ? $"line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1}"
            : "an unknown position";
        var reason = e.Message.Split(" LineNumber:", 2)[0];
        return Results.ValidationProblem(
            new Dictionary<string, string[]> { ["$"] = [$"malformed JSON at {where}: {reason}"] },
            title: "Malformed JSON",
            detail: $"The body is not valid JSON: {reason} (at {where}).",
            extensions: new Dictionary<string, object?>
            {
                ["line"] = e.LineNumber + 1,
                ["bytePositionInLine"] = e.BytePositionInLine + 1,
            });
    }

    private readonly record struct ParsedBody(JsonDocument? Json, IResult? Failure, PipeReader? Reader = null, SequencePosition Consumed = default) : IDisposable
    {
        public void Dispose()
        {
            Json?.Dispose();
            Reader?.AdvanceTo(Consumed);
        }
    }
}
