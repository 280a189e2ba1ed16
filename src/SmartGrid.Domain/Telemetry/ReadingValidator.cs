using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SmartGrid.Domain.Telemetry;

/// <summary>One reason a record was rejected. <see cref="Field"/> is the JSON name ("voltage"), or "$" for the record itself.</summary>
public sealed record FieldError(string Field, string Reason);

/// <summary>
/// Limits the ingestion applies to every reading. Defaults are the physically plausible
/// ranges of a low-voltage smart meter and the seed's 7-day raw retention.
/// </summary>
public sealed record ReadingValidationOptions
{
    public static ReadingValidationOptions Default { get; } = new();

    /// <summary>
    /// Regular expression the whole meter id must match, evaluated by the non-backtracking
    /// engine (linear time in the input, whatever the pattern), so no timeout is needed and a
    /// valid id is never rejected because the machine was busy. Use [0-9] for ASCII digits.
    /// </summary>
    public string MeterIdPattern { get; init; } = "^MTR-[0-9]{8}$";

    /// <summary>
    /// Volts. Zero is a reading: a meter's last gasp as its supply fails is 0 V or a few volts, and it
    /// starts a customer interruption (below 5 % of nominal), so it must reach the meter.
    /// </summary>
    public ValueRange Voltage { get; init; } = new(0, 500);

    /// <summary>Amperes.</summary>
    public ValueRange Current { get; init; } = new(0, 1000);

    /// <summary>Kilowatts. Negative (export) power is not part of the seed's model.</summary>
    public ValueRange PowerKw { get; init; } = new(0, 1000);

    /// <summary>Kilowatt-hours consumed in the reading's interval.</summary>
    public ValueRange EnergyKwh { get; init; } = new(0, 1000);

    public ValueRange PowerFactor { get; init; } = new(0, 1);

    /// <summary>Hertz; wide enough for 50 Hz and 60 Hz grids in distress, narrow enough to catch unit mix-ups.</summary>
    public ValueRange Frequency { get; init; } = new(40, 70);

    /// <summary>
    /// How far ahead of the node's clock a reading may be stamped. Kept small: a reading from the
    /// future is either a meter with a broken clock or a forgery, and every minute allowed here is
    /// a minute by which one reading could run ahead of its meter's genuine ones. Configured as
    /// SmartGrid:Ingestion:MaxClockSkew, which applies it at ingestion and in the Kafka consumer.
    /// </summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Oldest accepted reading: the raw_readings retention, beyond which the reading could not be stored.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    public int RegionMaxLength { get; init; } = 64;
}

/// <summary>Either a valid reading or every reason the record was rejected.</summary>
public sealed class ReadingValidationResult
{
    private ReadingValidationResult(TelemetryReading? reading, IReadOnlyList<FieldError> errors)
    {
        Reading = reading;
        Errors = errors;
    }

    public TelemetryReading? Reading { get; }

    /// <summary>Empty when valid; otherwise in the order of the fields in the seed's format.</summary>
    public IReadOnlyList<FieldError> Errors { get; }

    [MemberNotNullWhen(true, nameof(Reading))]
    public bool IsValid => Reading is not null;

    public static ReadingValidationResult Valid(TelemetryReading reading) => new(reading, []);

    public static ReadingValidationResult Invalid(IReadOnlyList<FieldError> errors)
    {
        if (errors.Count == 0)
        {
            throw new ArgumentException("an invalid result needs at least one error", nameof(errors));
        }

        return new(null, errors);
    }
}

/// <summary>
/// Validates one reading in the seed's JSON format. It works on a <see cref="JsonElement"/>
/// rather than a deserialised object so that a wrong type ("voltage": "abc") is a field error
/// of that record, not an exception that fails the whole batch; and it reports all errors of
/// the record at once so that a sender can fix them in one round trip. Thread-safe.
/// </summary>
public sealed class ReadingValidator
{
    public const string RecordField = "$";

    private const string MeterIdField = "meter_id";
    private const string TimestampField = "timestamp";
    private const string VoltageField = "voltage";
    private const string CurrentField = "current";
    private const string PowerKwField = "power_kw";
    private const string EnergyKwhField = "energy_kwh";
    private const string PowerFactorField = "power_factor";
    private const string FrequencyField = "frequency";
    private const string RegionField = "region";

    // Index order is the seed's field order, which is also the order errors are reported in.
    private static readonly string[] FieldNames =
    [
        MeterIdField, TimestampField, VoltageField, CurrentField, PowerKwField, EnergyKwhField,
        PowerFactorField, FrequencyField, RegionField,
    ];

    private readonly ReadingValidationOptions _options;
    private readonly Regex _meterId;
    private readonly TimeProvider _clock;

    public ReadingValidator(ReadingValidationOptions? options = null, TimeProvider? clock = null)
    {
        _options = options ?? ReadingValidationOptions.Default;
        _clock = clock ?? TimeProvider.System;
        if (_options.MaxClockSkew < TimeSpan.Zero)
        {
            throw new ArgumentException("MaxClockSkew must not be negative", nameof(options));
        }

        if (_options.MaxAge <= TimeSpan.Zero)
        {
            throw new ArgumentException("MaxAge must be positive", nameof(options));
        }

        if (_options.RegionMaxLength < 1)
        {
            throw new ArgumentException("RegionMaxLength must be at least 1", nameof(options));
        }

        // The pattern comes from configuration; the non-backtracking engine bounds its cost on a
        // hostile meter id. A wall-clock match timeout would instead reject good ids under load.
        // Anchored here so the whole id must match, whatever anchors the configured pattern has,
        // and IsMatch needs no Match object per reading.
        _meterId = new Regex($@"\A(?:{_options.MeterIdPattern})\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
    }

    public ReadingValidationOptions Options => _options;

    /// <summary>Whether <paramref name="text"/> is a meter id ingestion accepts: the one rule for every API that names a meter.</summary>
    public bool IsMeterId([NotNullWhen(true)] string? text) => text is not null && _meterId.IsMatch(text);

    /// <summary>The rule, as a 400 states it.</summary>
    public string MeterIdRule => $"must match {_options.MeterIdPattern}";

    /// <summary>Validates against the validator's clock.</summary>
    public ReadingValidationResult Validate(JsonElement record) => Validate(record, _clock.GetUtcNow());

    /// <summary>Validates with <paramref name="now"/> as the reference for the timestamp's age and skew.</summary>
    public ReadingValidationResult Validate(JsonElement record, DateTimeOffset now)
    {
        if (record.ValueKind != JsonValueKind.Object)
        {
            return ReadingValidationResult.Invalid([new(RecordField, $"must be a JSON object, not {Describe(record.ValueKind)}")]);
        }

        var values = new JsonElement?[FieldNames.Length];
        var duplicated = new bool[FieldNames.Length];
        foreach (JsonProperty property in record.EnumerateObject())
        {
            int index = Array.IndexOf(FieldNames, property.Name);
            if (index < 0)
            {
                // Unknown members (ingested_at, future fields) are not ours to reject.
                continue;
            }

            // JSON allows duplicate names and parsers disagree on which one wins; refuse to guess.
            if (values[index] is not null)
            {
                duplicated[index] = true;
            }

            values[index] = property.Value;
        }

        var errors = new List<FieldError>();
        for (int i = 0; i < FieldNames.Length; i++)
        {
            if (duplicated[i])
            {
                errors.Add(new(FieldNames[i], "appears more than once"));
            }
        }

        JsonElement? Field(int index) => duplicated[index] ? null : values[index];
        bool Required(int index) => !duplicated[index];

        string? meterId = ReadMeterId(Field(0), Required(0), errors);
        DateTimeOffset? timestamp = ReadTimestamp(Field(1), Required(1), now, errors);
        double? voltage = ReadNumber(VoltageField, Field(2), Required(2), _options.Voltage, errors);
        double? current = ReadNumber(CurrentField, Field(3), Required(3), _options.Current, errors);
        double? powerKw = ReadNumber(PowerKwField, Field(4), Required(4), _options.PowerKw, errors);
        double? energyKwh = ReadNumber(EnergyKwhField, Field(5), Required(5), _options.EnergyKwh, errors);
        double? powerFactor = ReadNumber(PowerFactorField, Field(6), required: false, _options.PowerFactor, errors);
        double? frequency = ReadNumber(FrequencyField, Field(7), required: false, _options.Frequency, errors);
        string? region = ReadRegion(Field(8), errors);

        if (errors.Count > 0)
        {
            // Sort by field order so duplicates and rule errors interleave predictably.
            return ReadingValidationResult.Invalid(
                errors.OrderBy(e => Array.IndexOf(FieldNames, e.Field)).ToArray());
        }

        return ReadingValidationResult.Valid(new TelemetryReading
        {
            MeterId = meterId!,
            Timestamp = timestamp!.Value,
            Voltage = voltage!.Value,
            Current = current!.Value,
            PowerKw = powerKw!.Value,
            EnergyKwh = energyKwh!.Value,
            PowerFactor = powerFactor,
            Frequency = frequency,
            Region = region,
        });
    }

    private string? ReadMeterId(JsonElement? value, bool required, List<FieldError> errors)
    {
        if (!ReadString(MeterIdField, value, required, errors, out string? text))
        {
            return null;
        }

        if (!_meterId.IsMatch(text))
        {
            errors.Add(new(MeterIdField, MeterIdRule));
            return null;
        }

        return text;
    }

    private DateTimeOffset? ReadTimestamp(JsonElement? value, bool required, DateTimeOffset now, List<FieldError> errors)
    {
        if (!ReadString(TimestampField, value, required, errors, out string? text))
        {
            return null;
        }

        if (!value!.Value.TryGetDateTimeOffset(out DateTimeOffset parsed))
        {
            errors.Add(new(TimestampField, "must be an ISO-8601 date-time such as 2024-01-15T14:30:00.000Z"));
            return null;
        }

        // Without an offset the parser assumes the server's local zone, which would make the
        // window a reading lands in depend on where ingestion runs.
        if (!HasExplicitOffset(text))
        {
            errors.Add(new(TimestampField, "must include a UTC offset (Z or +hh:mm)"));
            return null;
        }

        DateTimeOffset utc = parsed.ToUniversalTime();
        if (utc > now + _options.MaxClockSkew)
        {
            errors.Add(new(TimestampField, $"must not be more than {Describe(_options.MaxClockSkew)} in the future"));
            return null;
        }

        if (utc < now - _options.MaxAge)
        {
            errors.Add(new(TimestampField, $"must not be older than {Describe(_options.MaxAge)}"));
            return null;
        }

        return utc;
    }

    private static double? ReadNumber(string field, JsonElement? value, bool required, ValueRange range, List<FieldError> errors)
    {
        if (!TryGetElement(field, value, required, JsonValueKind.Number, errors, out JsonElement element))
        {
            return null;
        }

        if (!element.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            errors.Add(new(field, "must be a finite number"));
            return null;
        }

        if (!range.Contains(number))
        {
            errors.Add(new(field, $"must be {range.Describe()}"));
            return null;
        }

        return number;
    }

    private string? ReadRegion(JsonElement? value, List<FieldError> errors)
    {
        if (!ReadString(RegionField, value, required: false, errors, out string? text))
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add(new(RegionField, "must not be empty"));
            return null;
        }

        if (text.Length > _options.RegionMaxLength)
        {
            errors.Add(new(RegionField, $"must be at most {_options.RegionMaxLength} characters"));
            return null;
        }

        // "Pune-West " would silently become a region of its own.
        if (text.Trim().Length != text.Length)
        {
            errors.Add(new(RegionField, "must not start or end with whitespace"));
            return null;
        }

        return text;
    }

    private static bool ReadString(string field, JsonElement? value, bool required, List<FieldError> errors, [NotNullWhen(true)] out string? text)
    {
        text = null;
        if (!TryGetElement(field, value, required, JsonValueKind.String, errors, out JsonElement element))
        {
            return false;
        }

        text = element.GetString()!;
        return true;
    }

    /// <summary>
    /// The field's value when it is present and of <paramref name="kind"/>; otherwise its error. A field that is
    /// absent or null is an error only when <paramref name="required"/>.
    /// </summary>
    private static bool TryGetElement(string field, JsonElement? value, bool required, JsonValueKind kind, List<FieldError> errors,
        out JsonElement element)
    {
        element = default;
        if (value is not { } present || present.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(new(field, value is null ? "is required" : "must not be null"));
            }

            return false;
        }

        if (present.ValueKind != kind)
        {
            errors.Add(new(field, $"must be {Describe(kind)}, not {Describe(present.ValueKind)}"));
            return false;
        }

        element = present;
        return true;
    }

    private static bool HasExplicitOffset(string text)
    {
        int time = text.IndexOf('T');
        return time >= 0 && text.AsSpan(time).IndexOfAny("Zz+-") >= 0;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    private static string Describe(TimeSpan span) => span switch
    {
        { Ticks: 0 } => "0 seconds",
        _ when span.Ticks % TimeSpan.TicksPerDay == 0 => Plural(span.Days, "day"),
        _ when span.Ticks % TimeSpan.TicksPerHour == 0 => Plural((long)span.TotalHours, "hour"),
        _ when span.Ticks % TimeSpan.TicksPerMinute == 0 => Plural((long)span.TotalMinutes, "minute"),
        _ => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds",
    };

    private static string Plural(long count, string unit) => count == 1 ? $"1 {unit}" : $"{count} {unit}s";
}
