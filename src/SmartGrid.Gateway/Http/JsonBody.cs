using System.Text.Json;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// Reads a small JSON object body and its fields one by one, collecting an error per field
/// (missing, wrong type, too long) so one answer names every field at fault. Unknown
/// properties are ignored.
/// </summary>
internal sealed class JsonBody : IDisposable
{
    private readonly JsonDocument? _document;
    private readonly JsonElement _root;
    private readonly string _prefix;
    private readonly Dictionary<string, string[]> _errors;

    private JsonBody(JsonDocument document) : this(document, document.RootElement, "", new(StringComparer.Ordinal))
    {
    }

    /// <summary>An object inside the body: its errors are the body's, named from the body's root ("tiers[0].users").</summary>
    private JsonBody(JsonDocument? document, JsonElement root, string prefix, Dictionary<string, string[]> errors)
    {
        _document = document;
        _root = root;
        _prefix = prefix;
        _errors = errors;
    }

    public bool HasErrors => _errors.Count > 0;

    public IResult Problem() => Problems.Validation(_errors);

    /// <summary>The parsed body, or the problem to answer (415, 413, malformed JSON, not an object).</summary>
    public static async Task<(JsonBody? Body, IResult? Failure)> ReadAsync(HttpContext context, int maxBytes)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported content type",
                detail: $"Send a JSON object as application/json (got '{request.ContentType ?? "none"}')."));
        }
        var (read, tooLarge) = await ReadBytesAsync(context, maxBytes);
        if (tooLarge is not null)
            return (null, tooLarge);
        using var buffer = read!;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $"line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1}" : "an unknown position";
            return (null, Problems.Field("$", $"malformed JSON at {where}: {e.Message.Split(" LineNumber:", 2)[0]}", "Malformed JSON"));
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind.ToString().ToLowerInvariant();
            document.Dispose();
            return (null, Problems.Field("$", $"expected a JSON object, got {kind}"));
        }
        return (new JsonBody(document), null);
    }

    /// <summary>
    /// The opening of every route that reads a JSON body: <paramref name="handle"/> gets the parsed body (disposed once it
    /// has answered), or the route answers the problem of reading it.
    /// </summary>
    public static async Task<IResult> HandleAsync(HttpContext context, int maxBytes, Func<JsonBody, Task<IResult>> handle)
    {
        var (body, failure) = await ReadAsync(context, maxBytes);
        if (failure is not null)
            return failure;
        using (body)
            return await handle(body!);
    }

    /// <inheritdoc cref="HandleAsync(HttpContext, int, Func{JsonBody, Task{IResult}})"/>
    public static Task<IResult> HandleAsync(HttpContext context, int maxBytes, Func<JsonBody, IResult> handle) =>
        HandleAsync(context, maxBytes, body => Task.FromResult(handle(body)));

    public string? String(string name, bool required, int maxLength = 256)
    {
        if (!Present(name, required, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.String)
        {
            Error(name, $"must be a string, got {value.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        var text = value.GetString()!;
        if (required && text.Length == 0)
        {
            Error(name, "must not be empty");
            return null;
        }
        if (text.Length > maxLength)
        {
            Error(name, $"must be at most {maxLength} characters");
            return null;
        }
        return text;
    }

    /// <summary>The property when the body carries it with a non-null value; otherwise false, and an error when it is required.</summary>
    private bool Present(string name, bool required, out JsonElement value)
    {
        if (_root.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
            return true;
        if (required) Error(name, "is required");
        return false;
    }

    /// <summary>Whether the body carries the property with a non-null value.</summary>
    public bool Has(string name) =>
        _root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A JSON number within [min, max]; null when absent and not required.</summary>
    public decimal? Decimal(string name, bool required, decimal min, decimal max)
    {
        if (!Present(name, required, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number))
        {
            Error(name, $"must be a number, got {value.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        if (number < min || number > max)
        {
            Error(name, $"must be from {min.ToString(System.Globalization.CultureInfo.InvariantCulture)} to {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            return null;
        }
        return number;
    }

    /// <summary>true / false; null when absent and not required.</summary>
    public bool? Boolean(string name, bool required)
    {
        if (!Present(name, required, out var value))
            return null;
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(name, $"must be true or false, got {value.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        return value.GetBoolean();
    }

    /// <summary>An ISO-8601 time with an explicit zone, returned in UTC; null when absent and not required.</summary>
    public DateTimeOffset? Time(string name, bool required)
    {
        var text = String(name, required, maxLength: 64);
        if (text is null)
            return null;
        if (!QueryReader.HasZone(text)
            || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var time))
        {
            Error(name, $"'{text}' is not an ISO-8601 time with a zone (e.g. 2026-01-31T10:15:00Z)");
            return null;
        }
        return time.ToUniversalTime();
    }

    /// <summary>An array of strings; null when absent and not required.</summary>
    public string[]? StringArray(string name, bool required, int maxItems = 64, int maxLength = 128)
    {
        if (!Present(name, required, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(name, $"must be an array of strings, got {value.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        if (value.GetArrayLength() > maxItems)
        {
            Error(name, $"must hold at most {maxItems} items");
            return null;
        }
        var items = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } text || text.Length > maxLength)
            {
                Error($"{name}[{index}]", $"must be a non-empty string of at most {maxLength} characters");
                return null;
            }
            items.Add(text);
            index++;
        }
        return items.ToArray();
    }

    /// <summary>
    /// The objects of an array field, each read like the body itself with errors named after their place ("tiers[1].wait_minutes");
    /// null when absent and not required, or refused (not an array, too few or too many items, an item not an object).
    /// </summary>
    public IReadOnlyList<JsonBody>? Objects(string name, bool required, int minItems, int maxItems)
    {
        if (!Present(name, required, out var value))
            return null;
        if (value.ValueKind != JsonValueKind.Array)
        {
            Error(name, $"must be an array of objects, got {value.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        if (value.GetArrayLength() < minItems || value.GetArrayLength() > maxItems)
        {
            Error(name, $"must hold {minItems} to {maxItems} items");
            return null;
        }
        var items = new List<JsonBody>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                Error($"{name}[{index}]", $"must be an object, got {item.ValueKind.ToString().ToLowerInvariant()}");
                return null;
            }
            items.Add(new JsonBody(null, item, $"{_prefix}{name}[{index}].", _errors));
            index++;
        }
        return items;
    }

    public void Error(string field, string reason)
    {
        field = _prefix + field;
        _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, reason] : [reason];
    }

    public void Dispose() => _document?.Dispose();

    /// <summary>The whole body, refused with 413 as soon as it is known to exceed <paramref name="maxBytes"/> (declared or read).</summary>
    public static async Task<(MemoryStream? Body, IResult? Failure)> ReadBytesAsync(HttpContext context, int maxBytes)
    {
        var request = context.Request;
        if (request.ContentLength > maxBytes)
            return (null, TooLarge(maxBytes));
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                await buffer.DisposeAsync();
                return (null, TooLarge(maxBytes));
            }
            buffer.Write(chunk, 0, read);
        }
        buffer.Position = 0;
        return (buffer, null);
    }

    private static IResult TooLarge(int maxBytes) =>
        Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
            detail: $"The body may be at most {maxBytes} bytes.");
}
