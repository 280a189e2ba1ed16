using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Reliability;

/// <summary>
/// Whose silence it was: the grid's (peers kept reporting, or a peer gasped) or the platform's (nobody was heard).
/// A region of ten meters reporting every 10 s from noon for three hours, with the interruptions each meter decides
/// (<see cref="CustomerInterruptions.Find"/>) and the evidence the region's 1-minute windows hold.
/// </summary>
public class SilenceEvidenceSpecs
{
    private const int Meters = 10;
    private static readonly DateTimeOffset End = Noon.AddHours(3);

    private static string Meter(int n) => $"MTR-{n:00000000}";

    /// <summary>Every meter's readings; <paramref name="voltage"/> null leaves the reading out (the meter or the platform was silent).</summary>
    private static Dictionary<string, List<(DateTimeOffset At, double Voltage)>> Region(Func<int, DateTimeOffset, double?> voltage) =>
        Enumerable.Range(1, Meters).ToDictionary(Meter, m => Enumerable.Range(0, (int)(End - Noon).TotalSeconds / 10)
            .Select(i => Noon.AddSeconds(10 * i)).Where(at => voltage(m, at) is not null).Select(at => (at, voltage(m, at)!.Value)).ToList());

    private static (List<CustomerInterruption> Found, SilenceEvidence Evidence) Judge(Dictionary<string, List<(DateTimeOffset At, double Voltage)>> region)
    {
        var found = region.SelectMany(m => CustomerInterruptions.Find(m.Key, m.Value, 230, End)).ToList();
        // What regional_aggregates_1m holds: per minute, the meters heard in it.
        var heard = region.SelectMany(m => m.Value.Select(r => (m.Key, Minute: Window.Floor(r.At, WindowSize.OneMinute))).Distinct())
            .GroupBy(x => x.Minute).ToDictionary(g => g.Key, g => g.Count());
        var gasps = found.Where(i => i.StartedBy == InterruptionStart.LastGasp).Select(i => (i.MeterId, i.Start));
        return (found, new SilenceEvidence(heard, gasps));
    }

    private static bool Between(DateTimeOffset at, int fromMinute, int toMinute) => at >= Noon.AddMinutes(fromMinute) && at < Noon.AddMinutes(toMinute);

    [Fact]
    public void Should_count_no_interruption_when_the_platform_heard_nobody()
    {
        // The node is stopped from 12:20:05 to 14:00:05: no meter's reading arrives. Every meter decides a silence when it reports again.
        var (found, evidence) = Judge(Region((_, at) => at >= Noon.AddMinutes(20).AddSeconds(5) && at < Noon.AddMinutes(100).AddSeconds(5) ? null : 230));

        Assert.Equal(Meters, found.Count(i => i.StartedBy == InterruptionStart.Silence && i.End == Noon.AddMinutes(100).AddSeconds(10)));
        Assert.DoesNotContain(found, i => evidence.Counts(i, End));
        var indices = ReliabilityIndices.Of(found.Where(i => evidence.Counts(i, End)), Meters, Noon, End);
        Assert.Equal((0, 0.0, 0.0), (indices.Sustained, indices.Saifi, indices.SaidiMinutes));
    }

    [Fact]
    public void Should_count_a_transformers_silent_outage_while_the_rest_of_the_region_reports()
    {
        // Meters 1-4 hang on one transformer and lose supply from 12:05 to 12:12 without a gasp; 5-10 report throughout.
        var (found, evidence) = Judge(Region((m, at) => m <= 4 && Between(at, 5, 12) ? null : 230));

        var counted = found.Where(i => evidence.Counts(i, End)).ToList();
        Assert.Equal(Enumerable.Range(1, 4).Select(m => new CustomerInterruption(Meter(m), Noon.AddMinutes(5), Noon.AddMinutes(12), InterruptionStart.Silence)), counted);
        // Hand-checked: 4 sustained interruptions of 7 minutes among 10 customers.
        var indices = ReliabilityIndices.Of(counted, Meters, Noon, End);
        Assert.Equal((0.4, 2.8, 7.0), (indices.Saifi!.Value, indices.SaidiMinutes!.Value, Math.Round(indices.CaidiMinutes!.Value, 9)));
    }

    [Fact]
    public void Should_count_a_whole_region_blackout_when_a_meter_gasped()
    {
        // Everyone is out from 12:30 to 13:00; only meter 7 got a last gasp out (0 V at 12:30), the others just fall silent.
        var (found, evidence) = Judge(Region((m, at) => Between(at, 30, 60) ? m == 7 && at == Noon.AddMinutes(30) ? 0 : null : 230));

        Assert.Equal(Meters, found.Count(i => evidence.Counts(i, End)));
        Assert.Equal(InterruptionStart.LastGasp, found.Single(i => i.MeterId == Meter(7)).StartedBy);
    }

    [Fact]
    public void Should_take_a_last_gasp_as_the_grids_word_for_itself_and_for_the_silences_around_it()
    {
        // Meter 3 gasps at 12:10 just before the platform stops (12:10:05 to 12:40): its own gasp is evidence enough, and
        // the others' silences, which start with the platform's stop, are corroborated by that gasp within two minutes.
        var (found, evidence) = Judge(Region((m, at) => m == 3 && at == Noon.AddMinutes(10) ? 0 : at > Noon.AddMinutes(10) && at < Noon.AddMinutes(40) ? null : 230));

        Assert.True(evidence.Counts(found.Single(i => i.MeterId == Meter(3)), End));
        // That is the rule's known price: a gasp right before a platform stop vouches for the peers' silences too.
        Assert.All(found, i => Assert.True(evidence.Counts(i, End)));
    }

    [Fact]
    public void Should_not_count_a_silence_its_only_witness_is_the_meter_itself()
    {
        // A region of one meter: it misses 40 s at 12:33:20 and reports again at 12:34:00, in the very minute judged. Only it was
        // heard there, so nobody vouches for the silence.
        var alone = new Dictionary<string, List<(DateTimeOffset At, double Voltage)>>
        {
            [Meter(1)] = Enumerable.Range(0, 1080).Where(i => i is < 200 or >= 204).Select(i => (Noon.AddSeconds(10 * i), 230.0)).ToList(),
        };
        var (found, evidence) = Judge(alone);

        var silence = Assert.Single(found);
        Assert.Equal((Noon.AddSeconds(2000), Noon.AddSeconds(2040)), (silence.Start, silence.End!.Value));
        Assert.False(evidence.Counts(silence, End));
    }

    [Fact]
    public void Should_count_a_silence_only_once_its_judged_minute_has_ended()
    {
        // Meters 1-2 fell silent at 12:05 and are still out; asked at 12:06:30 the judged minute (12:06) is not over yet.
        var region = Region((m, at) => m <= 2 && at >= Noon.AddMinutes(5) ? null : 230);
        var (_, evidence) = Judge(region);
        var silent = new CustomerInterruption(Meter(1), Noon.AddMinutes(5), null, InterruptionStart.Silence);

        Assert.Equal(Noon.AddMinutes(6), SilenceEvidence.JudgedMinute(silent.Start));
        Assert.False(evidence.Counts(silent, Noon.AddMinutes(6).AddSeconds(30)));
        Assert.True(evidence.Counts(silent, Noon.AddMinutes(7)));
    }
}
