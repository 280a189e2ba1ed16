using System.Text.Json.Nodes;
using SmartGrid.Contracts;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Services.Tests;

/// <summary>The regional_aggregates message has one declaration: what the pipeline writes is what the managers read.</summary>
public sealed class ContractSpecs
{
    private static readonly RegionalAggregate Window = new()
    {
        Region = "Nashik", Size = WindowSize.FifteenMinutes, WindowStart = new DateTimeOffset(2024, 1, 15, 14, 30, 0, TimeSpan.Zero),
        MeterCount = 2, TotalPowerKw = 2250, EnergyKwhSum = 562.5, ReadingCount = 30, CapacityKw = 2500, LoadPercent = 90,
    };

    [Fact]
    public void Should_write_the_regional_aggregates_message_with_the_seeds_fields_in_order()
    {
        var json = JsonNode.Parse(WireJson.Serialize(RegionalAggregateMessage.From(Window, revision: 3)))!.AsObject();

        Assert.Equal(
            ["region", "window_size", "window_start", "window_end", "meter_count", "total_power_kw", "avg_power_kw", "energy_kwh_sum",
             "reading_count", "capacity_kw", "load_percentage", "revision"],
            json.Select(p => p.Key));
        Assert.Equal(("15m", 1125.0, 90.0, 3), ((string?)json["window_size"], (double?)json["avg_power_kw"], (double?)json["load_percentage"],
            (int?)json["revision"]));
        Assert.Equal(Window.WindowStart.AddMinutes(15), (DateTimeOffset?)json["window_end"]);
    }

    [Fact]
    public void Should_read_back_what_the_pipeline_writes()
    {
        var written = RegionalAggregateMessage.From(Window, revision: 3);

        var read = WireJson.Deserialize<RegionalAggregateMessage>(WireJson.Serialize(written));

        Assert.Equal(written, read);
    }
}
