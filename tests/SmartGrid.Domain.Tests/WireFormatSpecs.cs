using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests;

/// <summary>Domain records cross Kafka and are persisted: their JSON must round-trip and use the seed's names.</summary>
public class WireFormatSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 14, 30, 0, TimeSpan.Zero);

    private static T RoundTrip<T>(T value, out JsonObject json)
    {
        string text = JsonSerializer.Serialize(value);
        json = JsonNode.Parse(text)!.AsObject();
        return JsonSerializer.Deserialize<T>(text)!;
    }

    [Fact]
    public void Should_round_trip_a_window_aggregate_with_snake_case_names()
    {
        WindowAggregate aggregate = WindowAggregate.Of(Reading(Start, powerKw: 2), WindowSize.FifteenMinutes)
            .Add(Reading(Start.AddMinutes(3), powerKw: 4, powerFactor: null));

        WindowAggregate back = RoundTrip(aggregate, out JsonObject json);

        Assert.Equal(aggregate, back);
        Assert.Equal("15m", (string?)json["window_size"]);
        Assert.Equal(3.0, (double?)json["power_kw_avg"]);
        Assert.Equal(2, (int?)json["reading_count"]);
        Assert.Equal(Start.AddMinutes(15), (DateTimeOffset?)json["window_end"]);
        Assert.True(json.ContainsKey("energy_kwh_sum"));
    }

    [Fact]
    public void Should_round_trip_an_anomaly_with_lower_case_kind_and_severity()
    {
        Anomaly anomaly = new AnomalyDetector().Detect("MTR-00000001", "Nashik", Start, 5, 1)!;

        Anomaly back = RoundTrip(anomaly, out JsonObject json);

        Assert.Equal(anomaly, back);
        Assert.Equal("spike", (string?)json["kind"]);
        Assert.Equal("critical", (string?)json["severity"]);
        Assert.Equal(400.0, (double?)json["deviation_percent"]);
    }

    [Fact]
    public void Should_round_trip_a_regional_aggregate_with_the_seeds_load_percentage()
    {
        RegionalAggregate regional = RegionalAggregate.From(
            "Nashik", WindowSize.FifteenMinutes, Start, 2500,
            [WindowAggregate.Of(Reading(Start, powerKw: 1250, meterId: "MTR-00000004"), WindowSize.FifteenMinutes)]);

        RegionalAggregate back = RoundTrip(regional, out JsonObject json);

        Assert.Equal(regional, back);
        Assert.Equal(50.0, (double?)json["load_percentage"]);
        Assert.Equal(1250.0, (double?)json["avg_power_kw"]);
    }

    [Fact]
    public void Should_name_severities_and_customer_types_as_the_seed_does()
    {
        Assert.Equal("\"medium\"", JsonSerializer.Serialize(Severity.Medium));
        Assert.Equal("medium", Severity.Medium.ToWireName());
        Assert.Equal(Severity.High, JsonSerializer.Deserialize<Severity>("\"high\""));
        Assert.Equal("\"industrial\"", JsonSerializer.Serialize(CustomerType.Industrial));
        Assert.True(Severity.Critical > Severity.High);
    }

    [Fact]
    public void Should_spell_each_enum_value_in_text_as_its_json_name_and_read_it_back()
    {
        AssertWireNames<Severity>(["low", "medium", "high", "critical"]);
        AssertWireNames<WindowSize>(["1m", "15m"]);
        AssertWireNames<VoltageEventKind>(["sag", "swell", "interruption"]);
        AssertWireNames<InterruptionStart>(["last-gasp", "silence"]);
        AssertWireNames<AlertType>(["ANOMALY", "THRESHOLD", "OUTAGE", "INCIDENT", "POWER_QUALITY", "SWELL"]);
        AssertWireNames<AlertStatus>(["active", "acknowledged", "resolved"]);
        Assert.Equal("interruption", VoltageWindow.WireName(VoltageEventKind.Interruption));
        Assert.Equal(VoltageEventKind.Swell, VoltageWindow.ParseKind("swell"));
        Assert.Equal("last-gasp", CustomerInterruption.WireName(InterruptionStart.LastGasp));
        Assert.Equal(InterruptionStart.Silence, CustomerInterruption.ParseStart("silence"));
    }

    [Fact]
    public void Should_refuse_a_name_or_value_that_is_not_on_the_wire()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VoltageWindow.ParseKind("Sag"));
        Assert.Throws<ArgumentOutOfRangeException>(() => CustomerInterruption.ParseStart("outage"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((WindowSize)5).ToWireName());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Severity)0).ToWireName());
    }

    [Fact]
    public void Should_rank_severities_as_sent_in_any_case_and_unknown_ones_lowest()
    {
        Assert.Equal(1, SeverityExtensions.RankOf("low"));
        Assert.Equal(4, SeverityExtensions.RankOf("CRITICAL"));
        Assert.Equal(3, SeverityExtensions.RankOf("High"));
        Assert.Equal(0, SeverityExtensions.RankOf("severe"));
        Assert.Equal(0, SeverityExtensions.RankOf(null));
    }

    private static void AssertWireNames<T>(string[] names) where T : struct, Enum
    {
        var json = new JsonSerializerOptions { Converters = { new JsonStringEnumConverter() } };
        Assert.Equal(names, Enum.GetValues<T>().Select(WireName.Of).ToArray());
        foreach (T value in Enum.GetValues<T>())
        {
            Assert.Equal($"\"{WireName.Of(value)}\"", JsonSerializer.Serialize(value, json));
            Assert.Equal(value, WireName.Parse<T>(WireName.Of(value)));
        }
    }
}
