using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Telemetry;

public class ReadingValidatorSpecs
{
    private static readonly DateTimeOffset Now = new(2024, 1, 15, 14, 31, 0, TimeSpan.Zero);
    private readonly ReadingValidator _validator = new();

    private static JsonObject Seed() => new()
    {
        ["meter_id"] = "MTR-00000001",
        ["timestamp"] = "2024-01-15T14:30:00.000Z",
        ["voltage"] = 230.5,
        ["current"] = 10.2,
        ["power_kw"] = 2.35,
        ["energy_kwh"] = 0.59,
        ["power_factor"] = 0.98,
        ["frequency"] = 50.0,
        ["region"] = "Mumbai-Central",
    };

    private static JsonObject With(string field, JsonNode? value)
    {
        JsonObject record = Seed();
        record[field] = value;
        return record;
    }

    private static JsonObject Without(params string[] fields)
    {
        JsonObject record = Seed();
        foreach (string field in fields)
        {
            record.Remove(field);
        }

        return record;
    }

    private ReadingValidationResult Validate(JsonNode record) => _validator.Validate(Json(record.ToJsonString()), Now);

    private FieldError SingleError(JsonNode record)
    {
        ReadingValidationResult result = Validate(record);
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void Should_accept_the_seed_example_and_keep_every_value()
    {
        ReadingValidationResult result = Validate(Seed());

        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
        TelemetryReading reading = result.Reading;
        Assert.Equal("MTR-00000001", reading.MeterId);
        Assert.Equal(new DateTimeOffset(2024, 1, 15, 14, 30, 0, TimeSpan.Zero), reading.Timestamp);
        Assert.Equal(230.5, reading.Voltage);
        Assert.Equal(10.2, reading.Current);
        Assert.Equal(2.35, reading.PowerKw);
        Assert.Equal(0.59, reading.EnergyKwh);
        Assert.Equal(0.98, reading.PowerFactor);
        Assert.Equal(50.0, reading.Frequency);
        Assert.Equal("Mumbai-Central", reading.Region);
        Assert.Null(reading.IngestedAt);
    }

    [Fact]
    public void Should_normalise_a_timestamp_with_offset_to_utc()
    {
        ReadingValidationResult result = Validate(With("timestamp", "2024-01-15T20:00:00+05:30"));

        Assert.True(result.IsValid);
        Assert.Equal(TimeSpan.Zero, result.Reading.Timestamp.Offset);
        Assert.Equal(new DateTime(2024, 1, 15, 14, 30, 0), result.Reading.Timestamp.DateTime);
    }

    [Theory]
    [InlineData("meter_id")]
    [InlineData("timestamp")]
    [InlineData("voltage")]
    [InlineData("current")]
    [InlineData("power_kw")]
    [InlineData("energy_kwh")]
    public void Should_require_field(string field)
    {
        Assert.Equal(new FieldError(field, "is required"), SingleError(Without(field)));
    }

    [Theory]
    [InlineData("meter_id")]
    [InlineData("timestamp")]
    [InlineData("voltage")]
    [InlineData("power_kw")]
    public void Should_reject_null_for_a_required_field(string field)
    {
        Assert.Equal(new FieldError(field, "must not be null"), SingleError(With(field, null)));
    }

    [Fact]
    public void Should_accept_a_reading_without_optional_fields()
    {
        ReadingValidationResult result = Validate(Without("power_factor", "frequency", "region"));

        Assert.True(result.IsValid);
        Assert.Null(result.Reading.PowerFactor);
        Assert.Null(result.Reading.Frequency);
        Assert.Null(result.Reading.Region);
    }

    [Fact]
    public void Should_treat_null_optional_fields_as_absent()
    {
        JsonObject record = Seed();
        record["power_factor"] = null;
        record["frequency"] = null;
        record["region"] = null;

        ReadingValidationResult result = Validate(record);

        Assert.True(result.IsValid);
        Assert.Null(result.Reading.PowerFactor);
        Assert.Null(result.Reading.Frequency);
        Assert.Null(result.Reading.Region);
    }

    [Theory]
    [InlineData("voltage", "\"abc\"", "must be a number, not a string")]
    [InlineData("current", "\"10.2\"", "must be a number, not a string")]
    [InlineData("power_kw", "true", "must be a number, not a boolean")]
    [InlineData("energy_kwh", "[1]", "must be a number, not an array")]
    [InlineData("power_factor", "{}", "must be a number, not an object")]
    [InlineData("frequency", "\"50\"", "must be a number, not a string")]
    [InlineData("meter_id", "12345678", "must be a string, not a number")]
    [InlineData("timestamp", "1705329000", "must be a string, not a number")]
    [InlineData("region", "7", "must be a string, not a number")]
    public void Should_report_a_type_error_as_a_field_error(string field, string json, string reason)
    {
        Assert.Equal(new FieldError(field, reason), SingleError(With(field, JsonNode.Parse(json))));
    }

    [Fact]
    public void Should_report_every_error_of_a_record_in_field_order()
    {
        JsonObject record = Seed();
        record.Remove("meter_id");
        record["region"] = "";
        record["voltage"] = "abc";
        record["power_kw"] = -1;
        record["frequency"] = 80;
        record["timestamp"] = "2024-01-15T14:30:00";

        ReadingValidationResult result = Validate(record);

        Assert.False(result.IsValid);
        Assert.Null(result.Reading);
        Assert.Equal(
            ["meter_id", "timestamp", "voltage", "power_kw", "frequency", "region"],
            result.Errors.Select(e => e.Field));
    }

    [Theory]
    [InlineData("MTR-1234567")]
    [InlineData("MTR-123456789")]
    [InlineData("mtr-00000001")]
    [InlineData("MTR-0000000a")]
    [InlineData("MTR_00000001")]
    [InlineData(" MTR-00000001")]
    [InlineData("MTR-00000001\n")]
    [InlineData("MTR-٠٠٠٠٠٠٠١")] // Arabic-Indic digits: \d must mean 0-9
    [InlineData("")]
    public void Should_reject_a_malformed_meter_id(string meterId)
    {
        Assert.Equal(new FieldError("meter_id", "must match ^MTR-[0-9]{8}$"), SingleError(With("meter_id", meterId)));
    }

    [Fact]
    public void Should_use_the_configured_meter_id_pattern()
    {
        var validator = new ReadingValidator(new ReadingValidationOptions { MeterIdPattern = @"^[A-Z]{3}\d{4}$" });

        Assert.True(validator.Validate(Json(With("meter_id", "ABC1234").ToJsonString()), Now).IsValid);
        Assert.False(validator.Validate(Json(Seed().ToJsonString()), Now).IsValid);
    }

    [Theory]
    [InlineData("voltage", -0.001, false)]
    [InlineData("voltage", 0.0, true)]
    [InlineData("voltage", 500.0, true)]
    [InlineData("voltage", 500.1, false)]
    [InlineData("current", -0.01, false)]
    [InlineData("current", 0.0, true)]
    [InlineData("current", 1000.0, true)]
    [InlineData("current", 1000.5, false)]
    [InlineData("power_kw", -0.001, false)]
    [InlineData("power_kw", 0.0, true)]
    [InlineData("power_kw", 1000.0, true)]
    [InlineData("power_kw", 1000.001, false)]
    [InlineData("energy_kwh", -0.001, false)]
    [InlineData("energy_kwh", 0.0, true)]
    [InlineData("energy_kwh", 1000.0, true)]
    [InlineData("energy_kwh", 1000.001, false)]
    [InlineData("power_factor", -0.01, false)]
    [InlineData("power_factor", 0.0, true)]
    [InlineData("power_factor", 1.0, true)]
    [InlineData("power_factor", 1.01, false)]
    [InlineData("frequency", 39.99, false)]
    [InlineData("frequency", 40.0, true)]
    [InlineData("frequency", 70.0, true)]
    [InlineData("frequency", 70.01, false)]
    public void Should_enforce_the_plausible_range(string field, double value, bool valid)
    {
        ReadingValidationResult result = Validate(With(field, value));

        Assert.Equal(valid, result.IsValid);
        if (!valid)
        {
            FieldError error = Assert.Single(result.Errors);
            Assert.Equal(field, error.Field);
            Assert.StartsWith("must be ", error.Reason);
        }
    }

    [Fact]
    public void Should_describe_the_violated_range_in_the_reason()
    {
        // 0 V became a reading on purpose (a last gasp, issue 17): the bound below is now inclusive.
        Assert.Equal(new FieldError("voltage", "must be at least 0 and at most 500"), SingleError(With("voltage", -0.5)));
        Assert.Equal(new FieldError("frequency", "must be at least 40 and at most 70"), SingleError(With("frequency", 12.5)));
    }

    [Fact]
    public void Should_reject_a_number_too_large_to_be_finite()
    {
        string json = Seed().ToJsonString().Replace("230.5", "1e400", StringComparison.Ordinal);

        ReadingValidationResult result = _validator.Validate(Json(json), Now);

        Assert.Equal(new FieldError("voltage", "must be a finite number"), Assert.Single(result.Errors));
    }

    [Fact]
    public void Should_use_configured_limits()
    {
        var validator = new ReadingValidator(new ReadingValidationOptions { Voltage = new ValueRange(200, 250) });

        Assert.False(validator.Validate(Json(With("voltage", 199.9).ToJsonString()), Now).IsValid);
        Assert.True(validator.Validate(Json(With("voltage", 249).ToJsonString()), Now).IsValid);
    }

    [Theory]
    [InlineData("2024-01-15T14:30:00", "must include a UTC offset (Z or +hh:mm)")]
    [InlineData("2024-01-15", "must include a UTC offset (Z or +hh:mm)")]
    [InlineData("yesterday", "must be an ISO-8601 date-time such as 2024-01-15T14:30:00.000Z")]
    [InlineData("15/01/2024 14:30", "must be an ISO-8601 date-time such as 2024-01-15T14:30:00.000Z")]
    [InlineData("2024-13-15T14:30:00Z", "must be an ISO-8601 date-time such as 2024-01-15T14:30:00.000Z")]
    public void Should_reject_a_timestamp_that_is_not_iso_8601_with_offset(string timestamp, string reason)
    {
        Assert.Equal(new FieldError("timestamp", reason), SingleError(With("timestamp", timestamp)));
    }

    [Theory]
    [InlineData(30_000, true)] // exactly the 30 s clock skew ahead
    [InlineData(30_001, false)]
    [InlineData(240_000, false)] // the 4 minutes ahead that once made a meter drop its genuine readings
    [InlineData(-604_800_000, true)] // exactly 7 days old
    [InlineData(-604_800_001, false)]
    public void Should_bound_the_timestamp_by_future_skew_and_retention(long millisecondsFromNow, bool valid)
    {
        string timestamp = (Now + TimeSpan.FromMilliseconds(millisecondsFromNow))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fffZ", CultureInfo.InvariantCulture);

        ReadingValidationResult result = Validate(With("timestamp", timestamp));

        Assert.Equal(valid, result.IsValid);
        if (!valid)
        {
            string reason = Assert.Single(result.Errors).Reason;
            Assert.Equal(
                millisecondsFromNow > 0 ? "must not be more than 30 seconds in the future" : "must not be older than 7 days",
                reason);
        }
    }

    [Fact]
    public void Should_take_now_from_the_clock_when_none_is_passed()
    {
        var validator = new ReadingValidator(clock: new FixedClock(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)));

        ReadingValidationResult result = validator.Validate(Json(Seed().ToJsonString()));

        Assert.Equal(new FieldError("timestamp", "must not be older than 7 days"), Assert.Single(result.Errors));
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("   ", "must not be empty")]
    [InlineData(" Pune-West", "must not start or end with whitespace")]
    [InlineData("Pune-West ", "must not start or end with whitespace")]
    public void Should_reject_a_blank_or_padded_region(string region, string reason)
    {
        Assert.Equal(new FieldError("region", reason), SingleError(With("region", region)));
    }

    [Fact]
    public void Should_limit_the_region_to_64_characters()
    {
        Assert.True(Validate(With("region", new string('R', 64))).IsValid);
        Assert.Equal(
            new FieldError("region", "must be at most 64 characters"),
            SingleError(With("region", new string('R', 65))));
    }

    [Fact]
    public void Should_reject_a_field_that_appears_twice()
    {
        string json = Seed().ToJsonString().Replace("\"voltage\":230.5", "\"voltage\":230.5,\"voltage\":231", StringComparison.Ordinal);

        ReadingValidationResult result = _validator.Validate(Json(json), Now);

        Assert.Equal(new FieldError("voltage", "appears more than once"), Assert.Single(result.Errors));
    }

    [Fact]
    public void Should_ignore_unknown_fields()
    {
        JsonObject record = Seed();
        record["ingested_at"] = "2024-01-15T14:30:01Z";
        record["firmware"] = "1.2.3";

        Assert.True(Validate(record).IsValid);
    }

    [Theory]
    [InlineData("[]", "must be a JSON object, not an array")]
    [InlineData("\"MTR-00000001\"", "must be a JSON object, not a string")]
    [InlineData("null", "must be a JSON object, not null")]
    public void Should_reject_a_record_that_is_not_an_object(string json, string reason)
    {
        ReadingValidationResult result = _validator.Validate(Json(json), Now);

        Assert.Equal(new FieldError("$", reason), Assert.Single(result.Errors));
    }

    [Fact]
    public void Should_reject_options_that_cannot_work()
    {
        Assert.Throws<ArgumentException>(() => new ReadingValidator(new ReadingValidationOptions { MaxAge = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new ReadingValidator(new ReadingValidationOptions { RegionMaxLength = 0 }));
        Assert.Throws<ArgumentException>(() => new ValueRange(10, 1));
    }

    [Fact]
    public void Should_produce_a_reading_that_round_trips_through_the_wire_format()
    {
        ReadingValidationResult result = Validate(Seed());

        string json = JsonSerializer.Serialize(result.Reading);
        ReadingValidationResult again = Validate(JsonNode.Parse(json)!);

        Assert.True(again.IsValid);
        Assert.Equal(result.Reading, again.Reading);
    }
}
