using SmartGrid.Domain.Alerts;

namespace SmartGrid.Domain.Tests.Alerts;

public class MeterAlertRulesSpecs
{
    private static readonly DateTimeOffset Ten = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly MeterAlertPolicy Policy = new(AnomalyClearWindows: 3, CadenceWindows: 5, StormShare: 0.1, StormSpan: TimeSpan.FromMinutes(5));

    private static AffectedMeter Silent(int meter, int minute) => new($"MTR-{meter:D8}", MeterTrouble.Silent, Ten.AddMinutes(minute));
    private static AffectedMeter Drop(int meter, int minute) => new($"MTR-{meter:D8}", MeterTrouble.Drop, Ten.AddMinutes(minute));

    [Theory]
    [InlineData(0, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    public void Should_end_an_anomaly_only_after_enough_in_band_windows(int windows, bool over) =>
        Assert.Equal(over, Policy.IsAnomalyOver(windows));

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(5, true)]
    public void Should_ignore_the_silence_of_a_meter_without_an_established_cadence(int reported, bool counts) =>
        Assert.Equal(counts, Policy.HasCadence(reported));

    [Fact]
    public void Should_open_one_incident_when_more_than_the_share_of_the_region_goes_silent_or_drops_together()
    {
        // 40 meters: more than 4 is a storm. Five in trouble within five minutes, one much earlier.
        var affected = new[] { Silent(1, 0), Silent(2, 30), Drop(3, 31), Silent(4, 32), Drop(5, 34), Silent(6, 35) };

        var opened = Assert.IsType<IncidentOpened>(RegionStorm.Decide("Nashik", 40, affected, null, Policy));

        Assert.Equal(["MTR-00000002", "MTR-00000003", "MTR-00000004", "MTR-00000005", "MTR-00000006"], opened.Meters.Select(m => m.MeterId));
        Assert.Equal(40, opened.RegisteredMeters);
    }

    [Fact]
    public void Should_not_open_an_incident_for_the_share_itself_nor_for_troubles_spread_over_time()
    {
        var atShare = new[] { Silent(1, 0), Silent(2, 1), Silent(3, 2), Silent(4, 3) };
        var spread = new[] { Silent(1, 0), Silent(2, 6), Silent(3, 12), Silent(4, 18), Silent(5, 24) };

        Assert.Null(RegionStorm.Decide("Nashik", 40, atShare, null, Policy));
        Assert.Null(RegionStorm.Decide("Nashik", 40, spread, null, Policy));
    }

    [Fact]
    public void Should_never_call_one_meter_a_storm_even_in_a_tiny_region()
    {
        Assert.Null(RegionStorm.Decide("Nashik", 2, [Silent(1, 0)], null, Policy));
        Assert.IsType<IncidentOpened>(RegionStorm.Decide("Nashik", 2, [Silent(1, 0), Drop(2, 1)], null, Policy));
    }

    [Fact]
    public void Should_count_a_meter_both_silent_and_dropping_once()
    {
        var affected = new[] { Drop(1, 0), Silent(1, 2), Silent(2, 3) };

        Assert.Null(RegionStorm.Decide("Nashik", 10, affected, null, Policy with { StormShare = 0.2 }));
    }

    [Fact]
    public void Should_list_meters_that_join_an_open_incident_and_clear_it_once_none_of_its_meters_is_in_trouble()
    {
        var open = new OpenIncident(Guid.NewGuid(), ["MTR-00000001", "MTR-00000002"]);

        var grew = Assert.IsType<IncidentGrew>(RegionStorm.Decide("Nashik", 40, [Silent(1, 0), Silent(7, 20)], open, Policy));
        var same = RegionStorm.Decide("Nashik", 40, [Silent(2, 0)], open, Policy);
        var cleared = Assert.IsType<IncidentCleared>(RegionStorm.Decide("Nashik", 40, [Silent(9, 40)], open, Policy));

        Assert.Equal(["MTR-00000007"], grew.Joined.Select(m => m.MeterId));
        Assert.Null(same);
        Assert.Equal(open.AlertId, cleared.AlertId);
    }
}
