using SmartGrid.Domain.Reliability;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Reliability;

/// <summary>Customer interruptions and the IEEE 1366 indices, with hand-checked examples (230 V nominal, readings every 10 s).</summary>
public class ReliabilitySpecs
{
    private const string Meter = "MTR-00000001";

    private static IEnumerable<(DateTimeOffset, double)> Every10s(DateTimeOffset from, params double[] voltages) =>
        voltages.Select((v, i) => (from.AddSeconds(10 * i), v));

    [Fact]
    public void Should_start_an_interruption_at_the_last_gasp_and_end_it_at_the_first_reading_above_90_percent()
    {
        // 11 V is below 5 % (11.5 V); 150 and 207 V are not above 90 % (207 V): restored at 208 V, reading 5.
        var found = CustomerInterruptions.Find(Meter, Every10s(Noon, 230, 11, 3, 150, 207, 208, 230), 230, Noon.AddMinutes(1));

        Assert.Equal([new CustomerInterruption(Meter, Noon.AddSeconds(10), Noon.AddSeconds(50), InterruptionStart.LastGasp)], found);
    }

    [Fact]
    public void Should_start_a_silent_meters_interruption_one_interval_after_its_last_reading()
    {
        // Silent from 12:00:10 to 12:20:10: out from 12:00:20, back at 12:20:10 — 19 min 50 s, sustained.
        var readings = Every10s(Noon, 230, 231).Concat(Every10s(Noon.AddMinutes(20).AddSeconds(10), 229, 230));

        var found = CustomerInterruptions.Find(Meter, readings, 230, Noon.AddMinutes(20).AddSeconds(30));

        var outage = Assert.Single(found);
        Assert.Equal(new CustomerInterruption(Meter, Noon.AddSeconds(20), Noon.AddMinutes(20).AddSeconds(10), InterruptionStart.Silence), outage);
        Assert.True(outage.IsSustained(Noon.AddMinutes(30)));
        // Asked ten minutes later, the meter is silent again since 12:20:20.
        Assert.Equal(new CustomerInterruption(Meter, Noon.AddMinutes(20).AddSeconds(30), null, InterruptionStart.Silence),
            CustomerInterruptions.Find(Meter, readings, 230, Noon.AddMinutes(30))[^1]);
    }

    [Fact]
    public void Should_not_take_one_missed_reading_for_an_outage()
    {
        var readings = new[] { (Noon, 230.0), (Noon.AddSeconds(10), 230.0), (Noon.AddSeconds(30), 230.0) };

        Assert.Empty(CustomerInterruptions.Find(Meter, readings, 230, Noon.AddSeconds(40)));
    }

    [Fact]
    public void Should_leave_an_interruption_open_while_the_meter_stays_silent()
    {
        var found = CustomerInterruptions.Find(Meter, Every10s(Noon, 230, 5), 230, Noon.AddHours(1));

        Assert.Equal([new CustomerInterruption(Meter, Noon.AddSeconds(10), null, InterruptionStart.LastGasp)], found);
    }

    [Fact]
    public void Should_compute_the_indices_of_a_hand_checked_month()
    {
        // 200 customers; three sustained interruptions of 30, 90 and 60 min, two momentary of 1 and 5 min (5 min exactly is momentary).
        var from = Noon;
        var to = Noon.AddDays(30);
        CustomerInterruption Out(string meter, int startHour, double minutes) =>
            new(meter, from.AddHours(startHour), from.AddHours(startHour).AddMinutes(minutes), InterruptionStart.LastGasp);
        var interruptions = new[]
        {
            Out("MTR-1", 1, 30), Out("MTR-2", 1, 90), Out("MTR-3", 50, 60), Out("MTR-1", 70, 1), Out("MTR-4", 80, 5),
            // Before the period: not counted.
            new CustomerInterruption("MTR-5", from.AddHours(-2), from.AddHours(-1), InterruptionStart.Silence),
        };

        var indices = ReliabilityIndices.Of(interruptions, customersServed: 200, from, to);

        // SAIFI 3/200 = 0.015; SAIDI 180/200 = 0.9 min; CAIDI 0.9/0.015 = 60 min; MAIFI 2/200 = 0.01.
        Assert.Equal((3, 2, 180.0), (indices.Sustained, indices.Momentary, indices.SustainedMinutes));
        Assert.Equal(0.015, indices.Saifi!.Value, 12);
        Assert.Equal(0.9, indices.SaidiMinutes!.Value, 12);
        Assert.Equal(60, indices.CaidiMinutes!.Value, 9);
        Assert.Equal(0.01, indices.Maifi!.Value, 12);
    }

    [Fact]
    public void Should_count_an_open_interruption_up_to_the_period_end_once_it_is_sustained()
    {
        var to = Noon.AddHours(1);
        CustomerInterruption[] open =
        [
            new("MTR-1", Noon.AddMinutes(40), null, InterruptionStart.Silence),   // 20 min by the end: sustained
            new("MTR-2", Noon.AddMinutes(57), null, InterruptionStart.LastGasp), // 3 min so far: undecided, not counted
        ];

        var indices = ReliabilityIndices.Of(open, 10, Noon, to);

        Assert.Equal((1, 0, 20.0), (indices.Sustained, indices.Momentary, indices.SustainedMinutes));
        Assert.Equal(20, indices.CaidiMinutes!.Value, 9);
    }

    [Fact]
    public void Should_answer_no_indices_without_customers_and_no_caidi_without_sustained_interruptions()
    {
        Assert.Equal(new ReliabilityIndices(0, 0, 0, 0, null, null, null, null), ReliabilityIndices.Of([], 0, Noon, Noon.AddDays(1)));
        Assert.Equal(new ReliabilityIndices(5, 0, 0, 0, 0, 0, null, 0), ReliabilityIndices.Of([], 5, Noon, Noon.AddDays(1)));
    }
}
